#!/usr/bin/env python3
"""An example trial in Python: logistic regression by gradient descent on a
synthetic two-class problem, reporting loss and accuracy every epoch.

    PYTHONPATH=python hops run --param lr=0.5 -- python3 examples/train_logistic.py
"""
import math
import random

import hops


def main():
    params = hops.params()
    lr = float(params.get("lr", 0.5))
    epochs = int(params.get("epochs", 25))
    rng = random.Random(int(params.get("seed", 7)))
    data = []
    for _ in range(400):
        label = rng.random() < 0.5
        x1 = rng.gauss(1.0 if label else -1.0, 1.0)
        x2 = rng.gauss(0.5 if label else -0.5, 1.0)
        data.append((x1, x2, 1.0 if label else 0.0))
    w1 = w2 = b = 0.0
    for epoch in range(1, epochs + 1):
        g1 = g2 = gb = loss = 0.0
        correct = 0
        for x1, x2, y in data:
            p = 1.0 / (1.0 + math.exp(-(w1 * x1 + w2 * x2 + b)))
            loss -= (y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)) / len(data)
            correct += (p >= 0.5) == (y == 1.0)
            g1 += (p - y) * x1 / len(data)
            g2 += (p - y) * x2 / len(data)
            gb += (p - y) / len(data)
        w1, w2, b = w1 - lr * g1, w2 - lr * g2, b - lr * gb
        hops.report(step=epoch, loss=loss, accuracy=correct / len(data))
    hops.report_final(accuracy=correct / len(data), loss=loss)
    print(f"lr={lr} epochs={epochs}: accuracy={correct / len(data):.3f} loss={loss:.4f}")


if __name__ == "__main__":
    main()
