import { projectSuite } from "../support/project.js";

// Every provider at least once across the two files; vitest runs the files in parallel.
projectSuite({ id: "defaults", args: [] });
projectSuite({ id: "openai", args: ["--provider", "openai", "--region", "lhr"] });
projectSuite({ id: "together", args: ["--provider", "together"] });
projectSuite({ id: "openrouter", args: ["--provider", "openrouter", "--model", "openai/gpt-5-mini"] });
projectSuite({
  id: "custom",
  args: ["--provider", "custom", "--base-url", "https://my-vllm.modal.run/v1", "--model", `Qwen/Qwen3-8B "instruct"`],
});
