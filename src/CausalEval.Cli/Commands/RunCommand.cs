using System.CommandLine;
using System.Globalization;
using System.Text;
using CausalEval.Baseline;
using CausalEval.Cli.Plans;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
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
        var episodes = new Option<int?>("--episodes") { Description = "Only the first N episodes of each test split" };
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
            tasks, models, episodes, epochs, seed, concurrency, output, resume, quiet, datasets, prompts, names, plan, maxCost, cacheDir, noCache, prices,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
            if (parse.GetValue(resume) is { } resumeDirectory)
            {
                // The plan comes from run.json: options that would change it are refused rather than ignored.
                Option[] planOptions = [tasks, models, episodes, epochs, seed, output, prompts, names, plan, prices];
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
    }

    /// <summary>
    /// A run ready to start: its folder, manifest, plan, episodes, and what an earlier attempt finished (trial ids, their
    /// usage and cost).
    /// </summary>
    private sealed record PreparedRun(
        string Directory, RunManifest Manifest, RunPlan Plan, IReadOnlyList<TaskEpisodes> Tasks, HashSet<string> Finished, Leaderboard Leaderboard,
        Usage UsageSoFar = default, double SpentUsd = 0);

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
        var policy = resumed is null ? NewPolicy(options) : ResumedPolicy(options.Resume!, resumed, options);
        using var calls = new ModelCalls(policy, time, warn: message => console.Error.WriteLine($"warning: {message}"));
        var catalog = ModelsCommand.Catalog(calls);
        var run = resumed is not null
            ? Resume(options.Resume!, resumed, options, catalog, console, policy)
            : Start(options, catalog, time, policy, console);
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

    /// <summary>
    /// A new run's call policy: the plan's limits, the cache options, and the prices — the committed defaults, then
    /// <c>--prices</c> (or the plan's <c>prices</c> file), then the plan's per-model prices.
    /// </summary>
    private static CallPolicy NewPolicy(RunOptions options)
    {
        var prices = PriceTable.Empty;
        try
        {
            prices = PriceTable.Default(PromptLibrary.Locate().Root);
        }
        catch (InputException)
        {
            // No prompts folder: only built-in agents can run, and they cost nothing.
        }
        if (options.PricesFile is { } file)
        {
            prices = prices.With(PriceTable.Load(file).All, file);
        }
        var plan = options.Plan;
        if (plan is not null)
        {
            prices = prices.With(plan.ModelPrices, plan.Path);
        }
        return new CallPolicy
        {
            Cache = new CacheSettings(!options.NoCache, options.CacheDirectory is { } dir ? Path.GetFullPath(dir) : null),
            Resilience = plan?.Resilience ?? new ResilienceSettings(),
            Providers = plan?.ProviderLimits ?? new Dictionary<string, CallLimits>(),
            Models = plan?.ModelLimits ?? new Dictionary<string, CallLimits>(),
            Prices = prices,
        };
    }

    /// <summary>A resumed run's call policy, as run.json recorded it (its prices too); only the cache options may change.</summary>
    private static CallPolicy ResumedPolicy(string directory, RunManifest manifest, RunOptions options)
    {
        var policy = manifest.CallPolicyJson is { } json
            ? CallPolicy.FromJson(Path.Combine(directory, RunManifest.FileName) + ":call_policy", json)
            : new CallPolicy();
        var cache = policy.Cache;
        if (options.NoCache)
        {
            cache = cache with { Enabled = false };
        }
        if (options.CacheDirectory is { } dir)
        {
            cache = new CacheSettings(cache.Enabled, Path.GetFullPath(dir));
        }
        return policy with { Cache = cache };
    }

    /// <summary>A budget needs a price for every chat model (bad input otherwise); without one, a missing price is a warning.</summary>
    private static void CheckPrices(IEnumerable<string> models, ModelCatalog catalog, PriceTable prices, double? maxCost, CliConsole console)
    {
        foreach (var model in models.Where(catalog.TakesPrompts))
        {
            if (prices.Find(model) is not null)
            {
                continue;
            }
            if (maxCost is { } cap)
            {
                throw new InputException("--max-cost", cap.ToString(CultureInfo.InvariantCulture),
                    $"no price for {model} in {prices.Source}: add it with --prices FILE or a plan's models[].price");
            }
            console.Error.WriteLine($"warning: no price for {model} in {prices.Source}; its cost is counted as 0");
        }
    }

    /// <summary>A new run. Everything is checked before the run folder exists, so bad input leaves nothing behind.</summary>
    private static PreparedRun Start(RunOptions options, ModelCatalog catalog, TimeProvider time, CallPolicy policy, CliConsole console)
    {
        if (options.Episodes is < 1)
        {
            throw new InputException("--episodes", options.Episodes.Value.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        if (options.Epochs < 1)
        {
            throw new InputException("--epochs", options.Epochs.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        var datasets = TaskCatalog.Locate(options.Datasets);
        var taskIds = options.Tasks.Count > 0 ? options.Tasks.Distinct().ToList() : datasets.TaskIds();
        var selected = taskIds.Select(id => new TaskEpisodes(datasets.Load(id), [.. datasets.LoadTestSplit(id, options.Episodes)])).ToList();
        var modelIds = options.Models.Count > 0 ? options.Models.Distinct().ToList() : DefaultModels();
        if (!NamingSchemes.All.Contains(options.Naming))
        {
            throw new InputException("--names", options.Naming, $"unknown naming scheme (known: {string.Join(", ", NamingSchemes.All)})");
        }
        // Chat models play every --prompt variant (default: the default variant) under the --names scheme; other models once.
        var promptModels = modelIds.Where(catalog.TakesPrompts).ToHashSet(StringComparer.Ordinal);
        IReadOnlyList<string?> variants = [null];
        if (promptModels.Count > 0)
        {
            var library = PromptLibrary.Locate();
            var wanted = options.Prompts.Count > 0 ? options.Prompts.Distinct().ToList() : [PromptLibrary.DefaultVariant];
            library.Check(wanted, selected.Select(t => t.Task.Family));
            library.Names(options.Naming);
            variants = wanted;
        }
        foreach (var model in modelIds)
        {
            catalog.Resolve(model);
        }
        CheckPrices(modelIds, catalog, policy.Prices, options.MaxCost, console);
        var plan = new RunPlan
        {
            Tasks = [.. selected.Select(t => t.Task)],
            Models = modelIds,
            PromptModels = promptModels,
            PromptVariants = variants,
            Naming = promptModels.Count > 0 ? options.Naming : null,
            Epochs = options.Epochs,
            Seed = options.Seed,
            Concurrency = options.Concurrency ?? Environment.ProcessorCount,
            Episodes = options.Episodes,
        };

        var startedAt = time.GetUtcNow();
        var runId = $"{startedAt:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        var directory = options.Output ?? Path.Combine("results", runId);
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new InputException("--out", directory, "the folder is not empty; choose a new one (or --resume it)");
        }
        Directory.CreateDirectory(directory);
        var manifest = new RunManifest
        {
            RunId = runId,
            CommandLine = options.CommandLine,
            ToolVersion = BuildInfo.Version,
            GitRevision = BuildInfo.GitRevision,
            Tasks = [.. selected.Select(t => new ManifestTask(t.Task.Id, t.Task.Version, plan.Split, t.Episodes.Count,
                TaskCatalog.Sha256(datasets.TestSplitPath(t.Task.Id))))],
            Models = modelIds,
            PromptVariants = plan.PromptVariants,
            Naming = plan.Naming,
            Seed = plan.Seed,
            Epochs = plan.Epochs,
            Concurrency = plan.Concurrency,
            TrialsPlanned = Runner.CountTrials(plan, selected),
            Status = "running",
            StartedAt = startedAt,
            MaxCostUsd = options.MaxCost,
            CallPolicyJson = promptModels.Count > 0 ? policy.ToJson(modelIds) : null,
        };
        manifest.Save(directory);
        return new PreparedRun(directory, manifest, plan, selected, [], new Leaderboard());
    }

    /// <summary>
    /// An interrupted run: the plan is rebuilt from run.json, checked against the datasets it used, a torn last line is
    /// cut off, and every trial already in trials.jsonl is counted and skipped.
    /// </summary>
    private static PreparedRun Resume(string directory, RunManifest manifest, RunOptions options, ModelCatalog catalog, CliConsole console, CallPolicy policy)
    {
        var manifestPath = Path.Combine(directory, RunManifest.FileName);
        var datasets = TaskCatalog.Locate(options.Datasets);
        var selected = new List<TaskEpisodes>();
        foreach (var (entry, i) in manifest.Tasks.Select((t, i) => (t, i)))
        {
            var task = datasets.Load(entry.Id);
            if (task.Version != entry.Version)
            {
                throw new InputException(manifestPath, $"tasks[{i}].version", $"the run used {entry.Id} version {entry.Version}, the datasets hold version {task.Version}");
            }
            if (TaskCatalog.Sha256(datasets.TestSplitPath(entry.Id)) != entry.DatasetSha256)
            {
                throw new InputException(manifestPath, $"tasks[{i}].dataset_sha256", $"the test split of {entry.Id} changed since the run started");
            }
            selected.Add(new TaskEpisodes(task, [.. datasets.LoadTestSplit(entry.Id, entry.Episodes)]));
        }
        foreach (var model in manifest.Models)
        {
            catalog.Resolve(model);
        }
        CheckPrices(manifest.Models, catalog, policy.Prices, options.MaxCost ?? manifest.MaxCostUsd, console);
        var plan = new RunPlan
        {
            Tasks = [.. selected.Select(t => t.Task)],
            Models = manifest.Models,
            PromptModels = manifest.Models.Where(catalog.TakesPrompts).ToHashSet(StringComparer.Ordinal),
            PromptVariants = manifest.PromptVariants,
            Naming = manifest.Naming,
            Epochs = manifest.Epochs,
            Seed = manifest.Seed,
            Concurrency = options.Concurrency ?? manifest.Concurrency,
        };

        var trialsPath = Path.Combine(directory, JsonlResultStore.FileName);
        if (TrialLog.RepairTornTail(trialsPath) is > 0 and var removed)
        {
            console.Error.WriteLine($"removed an incomplete last line ({removed} bytes) from {trialsPath}");
        }
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var leaderboard = new Leaderboard();
        long errors = 0;
        var usage = default(Usage);
        var spent = 0.0;
        if (File.Exists(trialsPath))
        {
            foreach (var trial in TrialLog.Read(trialsPath))
            {
                if (finished.Add(trial.TrialId))
                {
                    leaderboard.Add(trial);
                    errors += trial.Failed ? 1 : 0;
                    usage += trial.Usage;
                    spent += trial.Cost;
                }
            }
        }
        console.Error.WriteLine($"resuming {manifest.RunId}: {finished.Count} of {manifest.TrialsPlanned} trials already done");
        var resumed = manifest with
        {
            Status = "running",
            TrialErrors = errors,
            CommandLine = [.. manifest.CommandLine],
            FinishedAt = null,
        };
        resumed.Save(directory);
        return new PreparedRun(directory, resumed, plan, selected, finished, leaderboard, usage, spent);
    }
}
