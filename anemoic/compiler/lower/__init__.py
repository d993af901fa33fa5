"""Lowering: checked parts -> the frozen ``anemoic.plan.model.Plan``."""
