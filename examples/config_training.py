"""A training script showing every config source; see docs/configuration.md."""

from sacredlike import Experiment, Ingredient

dataset = Ingredient("dataset")


@dataset.config
def dataset_config():
    name = "mnist"  # which dataset to load
    samples = 1000  # number of training samples


@dataset.named_config
def tiny():
    """A quick smoke-test dataset."""
    samples = 64


@dataset.capture
def load(name, samples):
    return [f"{name}-{i}" for i in range(samples)]


ex = Experiment("training", ingredients=[dataset])
ex.add_config(epochs=2, optimizer={"name": "sgd", "lr": 0.1})


@ex.config
def config():
    batch_size = 32  # examples per step
    steps_per_epoch = dataset["samples"] // batch_size  # derived from the dataset


@ex.named_config
def adam():
    """Use Adam with a smaller learning rate."""
    optimizer = {"name": "adam", "lr": 0.001}


@ex.capture(prefix="optimizer")
def make_optimizer(name, lr):
    return f"{name}(lr={lr})"


@ex.automain
def main(epochs, steps_per_epoch, _run):
    data = load()
    optimizer = make_optimizer()
    for epoch in range(epochs):
        _run.log_scalar("loss", 1.0 / (epoch + 1))
    print(f"trained on {len(data)} samples with {optimizer} for {epochs * steps_per_epoch} steps")
    return len(data)
