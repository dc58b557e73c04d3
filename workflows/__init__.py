"""Temporal workflows: deterministic orchestration; every rule lives in sellerflow.policy."""

from workflows.evaluation import SellerEvaluationWorkflow
from workflows.onboarding import OnboardingWorkflow
from workflows.seller import SellerWorkflow

ALL_WORKFLOWS = [OnboardingWorkflow, SellerWorkflow, SellerEvaluationWorkflow]

__all__ = ["ALL_WORKFLOWS", "OnboardingWorkflow", "SellerEvaluationWorkflow", "SellerWorkflow"]
