"""Hidden-labour reports: the time AI quietly adds (checking, prompting, cleaning up), credited."""
