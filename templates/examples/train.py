"""A small, correct DDP training loop to start from (written by ``sshsetup jobscript --example train.py``).

NCCL on GPUs, gloo on CPUs. Reads the sshsetup chain contract:
  SSHSETUP_CKPT_DIR      where checkpoints go (default: ./ckpt)
  SSHSETUP_RESUME_FROM   checkpoint to resume from (empty on the first link)
  SSHSETUP_DEADLINE      epoch seconds of this link's end (0: none)
  SSHSETUP_LINK          this link's number (0 on the first)
  SSHSETUP_CKPT_EVERY    seconds between checkpoints the chain was checked for (default: 60)
Checkpoints are written atomically (temp file, fsync, rename); SIGUSR1 asks for a
checkpoint and a clean exit; DONE in the checkpoint dir ends the chain.
"""

from __future__ import annotations

import json
import os
import signal
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

STEPS = int(os.environ.get("TRAIN_STEPS", "20"))
PAD = float(os.environ.get("TRAIN_STEP_SECONDS") or 0)  # make each step last this long (to try a chain out)
EVERY = float(os.environ.get("SSHSETUP_CKPT_EVERY") or os.environ.get("TRAIN_CKPT_EVERY") or 60)  # seconds
stop = False


def on_usr1(_signum: int, _frame: object) -> None:
    global stop
    stop = True


def save(path: str, model: torch.nn.Module, opt: torch.optim.Optimizer, step: int) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # readers see the old or the new checkpoint, never half of one


def main() -> None:
    signal.signal(signal.SIGUSR1, on_usr1)
    gpu = torch.cuda.is_available()
    dist.init_process_group("nccl" if gpu else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0"))) if gpu else torch.device("cpu")
    ckpt_dir = os.environ.get("SSHSETUP_CKPT_DIR") or "ckpt"
    resume = os.environ.get("SSHSETUP_RESUME_FROM", "")
    deadline = float(os.environ.get("SSHSETUP_DEADLINE") or 0)
    os.makedirs(ckpt_dir, exist_ok=True)
    torch.manual_seed(0)
    model = DistributedDataParallel(torch.nn.Linear(8, 1).to(device))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    step = 0
    if resume:
        state = torch.load(resume, map_location=device)
        model.module.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
    last = time.monotonic()
    g = torch.Generator().manual_seed(1000 + rank)  # each rank its own data
    while step < STEPS:
        x = torch.randn(16, 8, generator=g).to(device)
        loss = (model(x) - x.sum(dim=1, keepdim=True)).pow(2).mean()
        opt.zero_grad()
        loss.backward()  # DDP averages the gradients over all ranks here
        opt.step()
        step += 1
        if PAD:
            time.sleep(PAD)
        flag = torch.tensor([1.0 if stop or (deadline and time.time() > deadline) else 0.0], device=device)
        dist.all_reduce(flag)  # every rank stops at the same step
        due = time.monotonic() - last >= EVERY or flag.item() > 0 or step == STEPS
        if due and rank == 0:
            save(os.path.join(ckpt_dir, f"step-{step:08d}.pt"), model.module, opt, step)
            last = time.monotonic()
        if flag.item() > 0:
            break
    weights = [round(float(v), 6) for v in model.module.weight.detach().cpu().flatten()]
    print(json.dumps({"rank": rank, "world": world, "step": step, "weights": weights}), flush=True)
    dist.barrier()
    if rank == 0 and step >= STEPS:
        open(os.path.join(ckpt_dir, "DONE"), "w").close()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
