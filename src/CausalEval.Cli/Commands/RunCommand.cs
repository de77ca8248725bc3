using System.CommandLine;
using System.Globalization;
using System.Text;
using CausalEval.Baseline;
using CausalEval.Cli.Plans;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Models;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Templates;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval run</c>: tasks × models × epochs into <c>results/&lt;run-id&gt;/</c>, then the leaderboard.</summary>
internal static class RunCommand
{
    public static Command Create(CliConsole console, IReadOnlyList<string> commandLine)
    {
        var tasks = new Option<string[]>("--task") { Description = "Task id (repeatable; default: every task)" };
        var models = new Option<string[]>("--model") { Description = "Model id (repeatable; default: every built-in agent and torch/default)" };
        var episodes = new Option<int?>("--episodes") { Description = "Only the first N episodes of each split" };
        var split = new Option<string?>("--split") { Description = "Committed split to play: test (default) or validation (choose prompts, recipes and checkpoints on validation)" };
        split.AcceptOnlyFromAmong([.. TaskDefinition.CommittedSplits]);
        var epochs = new Option<int>("--epochs") { Description = "Times each episode is played", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "Run seed (environment noise and agent randomness)", DefaultValueFactory = _ => 0 };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Trials played at once", DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var output = new Option<string?>("--out") { Description = "Run folder (default: results/<run-id>)" };
        var resume = new Option<string?>("--resume") { Description = "Finish an interrupted run in this folder: same plan (from its run.json), no trial played twice" };
        var quiet = new Option<bool>("--quiet") { Description = "No progress output" };
        var datasets = CommonOptions.Datasets();
        var prompts = new Option<string[]>("--prompt")
        {
            Description = $"Prompt variant for chat models (repeatable: one trial per episode × variant; default {PromptLibrary.DefaultVariant})",
        };
        var names = new Option<string>("--names")
        {
            Description = $"Variable names chat models see: {string.Join(" | ", NamingSchemes.All)}", DefaultValueFactory = _ => NamingSchemes.Default,
        };
        var plan = new Option<string?>("--plan")
        {
            Description = "Plan file (YAML): tasks, models and settings, prompts, names, episodes, epochs, seed, concurrency, limits, budget, cache, prices; options given here override it",
        };
        var maxCost = new Option<double?>("--max-cost") { Description = "Stop scheduling new trials once the run has spent this many US dollars (needs a price for every chat model)" };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Response cache folder (default $XDG_CACHE_HOME/causaleval, else ~/.cache/causaleval)" };
        var noCache = new Option<bool>("--no-cache") { Description = "Neither read nor write the response cache" };
        var prices = new Option<string?>("--prices") { Description = "Price file (JSON, USD per million tokens) over the defaults in prompts/prices.json" };
        var command = new Command("run", "Run tasks × models × epochs and write results/<run-id>/ (no arguments: the default offline suite)")
        {
            tasks, models, episodes, split, epochs, seed, concurrency, output, resume, quiet, datasets, prompts, names, plan, maxCost, cacheDir, noCache, prices,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
            if (parse.GetValue(resume) is { } resumeDirectory)
            {
                // The plan comes from run.json: options that would change it are refused rather than ignored.
                Option[] planOptions = [tasks, models, episodes, split, epochs, seed, output, prompts, names, plan, prices];
                if (planOptions.FirstOrDefault(Given) is { } conflicting)
                {
                    throw new InputException(conflicting.Name, "--resume", "the resumed run keeps its own plan; drop this option");
                }
            }
            var file = parse.GetValue(plan) is { } planPath ? PlanLoader.Load(planPath, Checks(parse.GetValue(datasets))) : null;
            // An option given on the command line wins over the plan, which wins over the default.
            IReadOnlyList<string> List(Option<string[]> option, IReadOnlyList<string>? fromPlan) =>
                parse.GetValue(option) is { Length: > 0 } given ? given : fromPlan ?? [];
            var options = new RunOptions(
                List(tasks, file?.Tasks),
                List(models, file?.Models),
                Given(episodes) ? parse.GetValue(episodes) : file?.Episodes,
                Given(epochs) ? parse.GetValue(epochs) : file?.Epochs ?? 1,
                Given(seed) ? parse.GetValue(seed) : file?.Seed ?? 0,
                Given(concurrency) ? parse.GetValue(concurrency) : file?.Concurrency,
                parse.GetValue(output) ?? file?.Out,
                parse.GetValue(resume),
                parse.GetValue(datasets),
                parse.GetValue(quiet),
                ["causaleval", .. commandLine])
            {
                Prompts = List(prompts, file?.Prompts),
                Naming = Given(names) ? parse.GetValue(names) ?? NamingSchemes.Default : file?.Names ?? NamingSchemes.Default,
                Plan = file,
                MaxCost = parse.GetValue(maxCost) ?? file?.MaxCostUsd,
                CacheDirectory = parse.GetValue(cacheDir) ?? file?.CacheDirectory,
                NoCache = parse.GetValue(noCache) || file?.CacheEnabled == false,
                PricesFile = parse.GetValue(prices) ?? file?.PricesFile,
                Split = parse.GetValue(split) ?? file?.Split ?? TaskDefinition.TestSplit,
            };
            return await ExecuteAsync(options, console, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>What a plan's tasks, prompt variants, names and models are checked against.</summary>
    private static PlanChecks Checks(string? datasets)
    {
        var catalog = TaskCatalog.Locate(datasets);
        var taskIds = catalog.TaskIds();
        var library = new Lazy<PromptLibrary>(PromptLibrary.Locate);
        var models = ModelsCommand.Catalog();
        return new PlanChecks(
            taskIds.Contains,
            variant => PromptLibrary.Families.Any(family => library.Value.Variants(family).Contains(variant)),
            NamingSchemes.All,
            id => models.Resolve(id));
    }

    /// <summary>The default suite's models: every built-in agent, then the shipped baseline checkpoint.</summary>
    internal static List<string> DefaultModels() =>
        [.. BuiltinAgents.All.Keys.Select(k => $"{BuiltinAgents.Prefix}/{k}"), TorchModelProvider.DefaultModelId];

    internal sealed record RunOptions(
        IReadOnlyList<string> Tasks,
        IReadOnlyList<string> Models,
        int? Episodes,
        int Epochs,
        ulong Seed,
        int? Concurrency,
        string? Output,
        string? Resume,
        string? Datasets,
        bool Quiet,
        IReadOnlyList<string> CommandLine)
    {
        /// <summary>Prompt variants for chat models (empty: the default variant).</summary>
        public IReadOnlyList<string> Prompts { get; init; } = [];

        /// <summary>Naming scheme for chat models.</summary>
        public string Naming { get; init; } = NamingSchemes.Default;

        /// <summary>The plan file the options came from (its limits, per-model limits and prices), if any.</summary>
        public PlanFile? Plan { get; init; }

        /// <summary>Spending cap in US dollars (<c>--max-cost</c>).</summary>
        public double? MaxCost { get; init; }

        public string? CacheDirectory { get; init; }

        public bool NoCache { get; init; }

        /// <summary>A price file over the committed defaults (<c>--prices</c>).</summary>
        public string? PricesFile { get; init; }

        /// <summary>The committed split played: test or validation (<c>--split</c>).</summary>
        public string Split { get; init; } = TaskDefinition.TestSplit;
    }

    internal static async Task<int> ExecuteAsync(RunOptions options, CliConsole console, TimeProvider time, CancellationToken cancellationToken)
    {
        if (options.Concurrency is < 1)
        {
            throw new InputException("--concurrency", options.Concurrency.Value.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        if (options.MaxCost is { } cap && !(cap >= 0 && double.IsFinite(cap)))
        {
            throw new InputException("--max-cost", cap.ToString(CultureInfo.InvariantCulture), "must be a number of US dollars ≥ 0");
        }
        var resumed = options.Resume is { } resumeDirectory ? RunManifest.Load(resumeDirectory) : null;
        var policy = resumed is null ? RunSetup.NewPolicy(options) : RunSetup.ResumedPolicy(options.Resume!, resumed, options);
        using var calls = new ModelCalls(policy, time, warn: message => console.Error.WriteLine($"warning: {message}"));
        var catalog = ModelsCommand.Catalog(calls);
        var run = resumed is not null
            ? RunSetup.Resume(options.Resume!, resumed, options, catalog, console, policy)
            : RunSetup.Start(options, catalog, time, policy, console);
        var maxCost = options.MaxCost ?? run.Manifest.MaxCostUsd;
        if (run.Manifest.CallPolicyJson is not null && calls.CacheDirectory is { } cacheDirectory && !options.Quiet)
        {
            await console.Error.WriteLineAsync($"response cache: {cacheDirectory}").ConfigureAwait(false);
        }

        RunOutcome outcome;
        using var budget = new RunBudget(maxCost, run.SpentUsd);
        await using (var store = new JsonlResultStore(run.Directory))
        {
            using var progress = RunProgress.Create(console, run.Manifest.TrialsPlanned - run.Finished.Count, options.Quiet);
            outcome = await new Runner(catalog, time, policy.Prices)
                .RunAsync(run.Plan, run.Tasks, store, run.Leaderboard, progress, cancellationToken, run.Finished, budget: budget)
                .ConfigureAwait(false);
        }
        var markdown = run.Leaderboard.ToMarkdown(run.Manifest.RunId);
        await File.WriteAllTextAsync(Path.Combine(run.Directory, "leaderboard.md"), markdown, new UTF8Encoding(false), CancellationToken.None)
            .ConfigureAwait(false);
        var written = run.Finished.Count + outcome.Written;
        var manifest = run.Manifest with
        {
            Status = outcome.Cancelled ? "interrupted"
                : outcome.StoppedByBudget ? "stopped-by-budget"
                : outcome.Errors + run.Manifest.TrialErrors > 0 ? "failed" : "finished",
            TrialsWritten = written,
            TrialErrors = run.Manifest.TrialErrors + outcome.Errors,
            CostUsd = run.SpentUsd + outcome.CostUsd,
            MaxCostUsd = maxCost,
            Usage = run.UsageSoFar + outcome.Usage,
            FinishedAt = time.GetUtcNow(),
        };
        manifest.Save(run.Directory);

        await console.Out.WriteAsync(markdown).ConfigureAwait(false);
        await console.Out.WriteLineAsync().ConfigureAwait(false);
        await console.Out.WriteLineAsync($"results: {run.Directory} ({written} of {manifest.TrialsPlanned} trials)").ConfigureAwait(false);
        if (manifest.CallPolicyJson is not null)
        {
            var u = manifest.Usage;
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"cost: ${manifest.CostUsd:0.0000} for {u.InputTokens:N0} input + {u.OutputTokens:N0} output tokens billed; " +
                $"{u.CachedInputTokens:N0} + {u.CachedOutputTokens:N0} tokens answered from the response cache at no cost")).ConfigureAwait(false);
        }
        if (outcome.Cancelled)
        {
            await console.Error.WriteLineAsync(
                $"interrupted after {written} of {manifest.TrialsPlanned} trials; finish with: causaleval run --resume {run.Directory}").ConfigureAwait(false);
            return CliApp.Failed;
        }
        if (outcome.StoppedByBudget)
        {
            await console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"stopped by the budget: ${manifest.CostUsd:0.0000} spent of --max-cost ${maxCost:0.####} after {written} of {manifest.TrialsPlanned} trials; " +
                $"to finish, raise the cap: causaleval run --resume {run.Directory} --max-cost <USD>")).ConfigureAwait(false);
            return CliApp.Failed;
        }
        if (manifest.TrialErrors > 0)
        {
            await console.Error.WriteLineAsync($"{manifest.TrialErrors} trials ended in an error; see \"error\" in {JsonlResultStore.FileName}").ConfigureAwait(false);
            return CliApp.Failed;
        }
        return CliApp.Ok;
    }
}
