/**
 * What a run with `--yes --no-install --no-git` never calls: the prompts (@clack/prompts),
 * --help, the install and git steps (execa) and the deploy (execa, smol-toml's parser; its
 * stringify writes the recorded options of every run). src/cli.ts and src/commands/create.ts
 * imports this module only when one of them runs, and the bundle puts it in a chunk of its own,
 * so a default run neither loads nor parses any of it. One module rather than an import per
 * use: each dynamic import would be a chunk of its own and split the shared code into more,
 * and every file a run loads costs time.
 */
export { askWithClack } from "./prompts.js";
export { helpText } from "./help.js";
export { initGit, installDependencies } from "./install.js";
export { deployCommand } from "./commands/deploy.js";
export { updateCommand } from "./commands/update.js";
export { deployProject, rerunCommand, summaryLines } from "./deploy/index.js";
export { checkFlyctl, checkLogin } from "./deploy/steps.js";
export { clackUi } from "./deploy/ui.js";
