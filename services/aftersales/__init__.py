"""aftersales: the return saga orchestrator (R8.3)."""
