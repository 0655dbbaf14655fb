"""Commands and a custom command-line flag; see docs/command-line.md."""

from sacredlike import Experiment
from sacredlike.commandline import cli_option


@cli_option("-T", "--tag")
def tag(value, run):
    """Store TAG in the run's info."""
    run.info["tag"] = value


ex = Experiment("cli_commands", additional_cli_options=[tag])


@ex.config
def config():
    threshold = 0.5  # decision threshold


@ex.command
def evaluate(threshold, checkpoint="last.pt"):
    """Evaluate a checkpoint at the threshold."""
    print(f"evaluating {checkpoint} at {threshold}")
    return 0.9


@ex.command(unobserved=True)
def describe(threshold):
    """Print the threshold (never recorded)."""
    print(f"threshold is {threshold}")


@ex.command
def crash():
    """Fail on purpose."""
    raise RuntimeError("something went wrong")


@ex.automain
def main(threshold, _run):
    """Train with the threshold."""
    print(f"training with threshold {threshold}, tag {_run.info.get('tag')}")
