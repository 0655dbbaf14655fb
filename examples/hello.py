"""A small but real experiment: fits a line by gradient descent and records everything.

Run it (records to ./runs with no server):

    python examples/hello.py -F runs with name=you steps=200

Then look at runs/1/run.json, config.json, metrics.json, cout.txt.
"""

from sacredlike import Experiment

ex = Experiment("hello")


@ex.config
def config():
    name = "world"  # who to greet
    steps = 100  # gradient descent steps
    learning_rate = 0.05  # step size
    slope, intercept = 2.0, -1.0  # the line the data comes from


@ex.capture
def make_data(slope, intercept, _rnd, size=50):
    """Noisy points on the line."""
    xs = [_rnd.uniform(-1, 1) for _ in range(size)]
    return [(x, slope * x + intercept + _rnd.gauss(0, 0.1)) for x in xs]


@ex.automain
def main(name, steps, learning_rate, _run, _log):
    print(f"Hello {name}! Fitting a line with {steps} steps.")
    data = make_data()
    a = b = 0.0
    for step in range(steps):
        grad_a = sum(2 * (a * x + b - y) * x for x, y in data) / len(data)
        grad_b = sum(2 * (a * x + b - y) for x, y in data) / len(data)
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        loss = sum((a * x + b - y) ** 2 for x, y in data) / len(data)
        _run.log_scalar("loss", loss, step)
        if step % max(1, steps // 5) == 0:
            _log.info("step %d: loss %.4f", step, loss)
    _run.info["fit"] = {"slope": a, "intercept": b}
    print(f"fitted slope={a:.3f} intercept={b:.3f}")
    return loss
