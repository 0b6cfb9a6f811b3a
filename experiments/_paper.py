"""The paper's reported numbers (log10 of each bound), as restored in THEORY.md, for side-by-side tables."""

MNIST_WIDTHS = (500, 784, 1000, 1500, 2000, 2500)

#: MNIST scaling study, log10, by width
MNIST = {
    "neyshabur_2015_code": dict(zip(MNIST_WIDTHS, (22.29, 23.56, 24.42, 25.12, 27.03, 27.72))),
    "neyshabur_2017_code": dict(zip(MNIST_WIDTHS, (17.91, 18.34, 18.70, 18.81, 21.50, 21.57))),
    "bartlett_2017_code": dict(zip(MNIST_WIDTHS, (11.51, 11.68, 11.87, 11.70, 13.96, 13.81))),
    "ours_paper_compatible": dict(zip(MNIST_WIDTHS, (3.36, 3.77, 4.00, 4.40, 4.73, 4.96))),
    "true_error": dict(zip(MNIST_WIDTHS, (-3.76, -3.84, -3.80, -3.85, -3.86, -3.87))),
}

#: CIFAR-10, h = 2000, log10
CIFAR10 = {
    "neyshabur_2015_code": {2000: 33.19},
    "neyshabur_2017_code": {2000: 30.10},
    "bartlett_2017_code": {2000: 22.40},
    "ours_paper_compatible": {2000: 4.68},
    "true_error": {2000: -2.41},
}


def paper_value(dataset: str, key: str, width: int) -> float | None:
    table = MNIST if dataset == "mnist" else CIFAR10 if dataset == "cifar10" else {}
    return table.get(key, {}).get(width)
