"""Risk scoring and lane selection: explainable factors, a learned model, a lane policy with
random compliance sampling, evaluation and the feedback loop from inspection outcomes."""
