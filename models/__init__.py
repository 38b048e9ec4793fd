"""Models and experiments of the reports in shared/seeds, written as microtensor
expressions. Depends on microtensor; microtensor never imports this package."""
from .datasets import digits, linear_set, xor_easy
from .networks import MLP, ConvNet, SoftmaxClassifier, activation

__all__ = ["MLP", "SoftmaxClassifier", "ConvNet", "activation", "linear_set", "xor_easy",
           "digits"]
