"""Workflow definitions. Pure orchestration: imports only temporalio.workflow, the domain and activity
references — never I/O (STYLE habit 2)."""
