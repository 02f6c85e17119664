import { projectSuite } from "../support/project.js";

projectSuite({ id: "groq-pip", args: ["--provider", "groq", "--python-tool", "pip", "--region", "fra"] });
projectSuite({ id: "fireworks", args: ["--provider", "fireworks"] });
projectSuite({ id: "deepinfra-pip", args: ["--provider", "deepinfra", "--python-tool", "pip"] });
projectSuite({ id: "ollama", args: ["--provider", "ollama", "--name", "local-llm"] });
// Every optional feature on at once (the rest are on by default), installed with pip.
projectSuite({ id: "all-features-pip", args: ["--provider", "together", "--python-tool", "pip", "--mcp"] });
