from .runs import EvaluationRun, ExampleResult, MetricValue

__all__ = ["EvaluationRun", "ExampleResult", "MetricValue"]
