"""Progress for a console that is not the notebook: ``MEMNB_PROGRESS`` set to a file turns the
notebook's bars off and gets plain lines (step, loss, seed) instead."""

import torch

from memnb.seeding import seed_everything
from memnb.train import loop


def test_modes(monkeypatch, tmp_path):
    for value, bars, file in [
        (None, True, None),
        ("1", True, None),
        ("yes", True, None),
        ("0", False, None),
        ("/dev/tty", False, "/dev/tty"),
    ]:
        if value is None:
            monkeypatch.delenv("MEMNB_PROGRESS", raising=False)
        else:
            monkeypatch.setenv("MEMNB_PROGRESS", value)
        assert (loop.progress_enabled(), loop.progress_file()) == (bars, file)


def test_lines_name_step_loss_and_seed(monkeypatch, tmp_path):
    log_file = tmp_path / "progress.log"
    monkeypatch.setenv("MEMNB_PROGRESS", str(log_file))
    seed_everything(7, threads=None)
    log = loop.ProgressLog("train char", 3, every=0)
    for step in (1, 2, 3):
        log.update(step, 1.0 / step)
    lines = log_file.read_text().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "train char seed 7: step 1/3 loss 1",
        "train char seed 7: step 2/3 loss 0.5",
        "train char seed 7: step 3/3 loss 0.3333",
    ]
    quiet = loop.ProgressLog("short", 3)  # a run shorter than `every` writes nothing
    for step in (1, 2, 3):
        quiet.update(step, 0.1)
    assert len(log_file.read_text().splitlines()) == 3


def test_train_writes_no_bar_when_logging_to_a_file(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MEMNB_PROGRESS", str(tmp_path / "progress.log"))
    monkeypatch.setattr(loop.ProgressLog.__init__, "__defaults__", (0.0,))  # a line every step
    model = torch.nn.Linear(2, 2)

    def loss_fn(model, batch, state):
        return model(batch).pow(2).mean(), state, {}

    from memnb.train.config import TrainConfig

    loop.train(model, lambda step: torch.ones(1, 2), TrainConfig(steps=2, lr=0.01), loss_fn=loss_fn, desc="lin")
    assert capsys.readouterr().err == ""  # no tqdm bar
    lines = (tmp_path / "progress.log").read_text().splitlines()
    assert len(lines) == 2 and "step 1/2 loss " in lines[0] and "step 2/2 loss " in lines[1]
