"""Answer → something a person or a program reads. Front ends pick a renderer."""
