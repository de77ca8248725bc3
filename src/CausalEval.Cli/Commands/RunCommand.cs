using System.CommandLine;
using System.Globalization;
using CausalEval.Baseline;
using CausalEval.Cli.Plans;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Models;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Templates;
using CausalEval.Runs;
using CausalEval.Core.Results;
using CausalEval.Models.Middleware;

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
        var batch = new Option<bool>("--batch")
        {
            Description = "openai/ and azure/ models answer through the provider's Batch API, at its batch rates (half price): single-turn tasks as one batch, multi-turn tasks one round per step; --resume picks up submitted batches",
        };
        var verbose = new Option<bool>("--verbose") { Description = "Log every call to a model provider on standard error (Microsoft.Extensions.AI logging)" };
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
        var attemptTimeout = new Option<string?>("--attempt-timeout") { Description = "Longest wait for one attempt of a model call, e.g. 300s or 10m (default 120s; over a plan's limits.attempt_timeout; also on resume)" };
        var callTimeout = new Option<string?>("--call-timeout") { Description = "Longest time for a model call with its retries and back-off, e.g. 30m (default 10m; over a plan's limits.call_timeout; also on resume)" };
        var maxResponse = new Option<long?>("--max-response-bytes") { Description = "Most bytes a model's response may have; a larger one is a bad_response (default 1048576; also on resume)" };
        var retryErrors = new Option<bool>("--retry-errors")
        {
            Description = "With --resume: play again the trials that ended in a retryable error (rate_limited, timeout, server_error, network, bad_response, circuit_open); one line per trial is kept",
        };
        var shard = new Option<string?>("--shard")
        {
            Description = "Play only shard K of N (K/N): a deterministic 1/N of the plan's trials, chosen by trial id, so N machines share a study; `causaleval report` merges the shard folders",
        };
        var noObserver = new Option<bool>("--no-observer")
        {
            Description = "Do not score with the ideal observer (evidence_value, exploration/inference regret, information): for many-epoch runs, where every epoch's evidence is new and costs a posterior (recorded in run.json)",
        };
        var command = new Command("run", "Run tasks × models × epochs and write results/<run-id>/ (no arguments: the default offline suite)")
        {
            tasks, models, episodes, split, epochs, seed, concurrency, output, resume, quiet, datasets, prompts, names, plan, maxCost, cacheDir, noCache, prices,
            attemptTimeout, callTimeout, maxResponse, shard, retryErrors, verbose, noObserver, batch,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
            if (parse.GetValue(resume) is { } resumeDirectory)
            {
                // The plan comes from run.json: options that would change it are refused rather than ignored.
                Option[] planOptions = [tasks, models, episodes, split, epochs, seed, output, prompts, names, plan, prices, shard, noObserver, batch];
                if (planOptions.FirstOrDefault(Given) is { } conflicting)
                {
                    throw new InputException(conflicting.Name, "--resume", "the resumed run keeps its own plan; drop this option");
                }
            }
            var file = parse.GetValue(plan) is { } planPath ? PlanLoader.Load(planPath, Checks(parse.GetValue(datasets))) : null;
            // An option given on the command line wins over the plan, which wins over the default.
            IReadOnlyList<string> List(Option<string[]> option, IReadOnlyList<string>? fromPlan) =>
                parse.GetValue(option) is { Length: > 0 } given ? given : fromPlan ?? [];
            var options = new RunRequest
            {
                Tasks = List(tasks, file?.Tasks),
                Models = List(models, file?.Models),
                DefaultModels = DefaultModels(),
                Episodes = Given(episodes) ? parse.GetValue(episodes) : file?.Episodes,
                Epochs = Given(epochs) ? parse.GetValue(epochs) : file?.Epochs ?? 1,
                Seed = Given(seed) ? parse.GetValue(seed) : file?.Seed ?? 0,
                Concurrency = Given(concurrency) ? parse.GetValue(concurrency) : file?.Concurrency,
                Output = parse.GetValue(output) ?? file?.Out,
                OutputOrigin = parse.GetValue(output) is null ? file?.OutOrigin : null,
                Resume = parse.GetValue(resume),
                RetryErrors = parse.GetValue(retryErrors),
                Observer = !parse.GetValue(noObserver),
                Datasets = parse.GetValue(datasets),
                CommandLine = ["causaleval", .. commandLine],
                ToolVersion = BuildInfo.Version,
                GitRevision = BuildInfo.GitRevision,
                Prompts = List(prompts, file?.Prompts),
                Naming = Given(names) ? parse.GetValue(names) ?? NamingSchemes.Default : file?.Names ?? NamingSchemes.Default,
                MaxCost = parse.GetValue(maxCost) ?? file?.MaxCostUsd,
                CacheDirectory = parse.GetValue(cacheDir) ?? file?.CacheDirectory,
                NoCache = parse.GetValue(noCache) || file?.CacheEnabled == false,
                PricesFile = parse.GetValue(prices) ?? file?.PricesFile,
                Split = parse.GetValue(split) ?? file?.Split ?? TaskDefinition.TestSplit,
                Batch = parse.GetValue(batch) || file?.Batch == true,
                Shard = parse.GetValue(shard) is { } shardText ? RunShard.Parse(shardText, "--shard", shardText) : null,
                ModelPrices = file?.ModelPrices ?? [],
                ModelPricesSource = file?.Path,
                Resilience = file?.Resilience ?? new ResilienceSettings(),
                ProviderLimits = file?.ProviderLimits ?? new Dictionary<string, CallLimits>(),
                ModelLimits = file?.ModelLimits ?? new Dictionary<string, CallLimits>(),
                MaxResponseBytes = file?.MaxResponseBytes,
                AttemptTimeoutOverride = Duration("--attempt-timeout", parse.GetValue(attemptTimeout)),
                CallTimeoutOverride = Duration("--call-timeout", parse.GetValue(callTimeout)),
                MaxResponseBytesOverride = parse.GetValue(maxResponse) is { } bytes
                    ? bytes >= CallPolicy.MinResponseBytes ? bytes : throw new InputException("--max-response-bytes", bytes.ToString(CultureInfo.InvariantCulture), $"must be at least {CallPolicy.MinResponseBytes}")
                    : null,
            };
            var quietly = parse.GetValue(quiet);
            if (parse.GetValue(verbose))
            {
                options = options with { ChatLogging = new ErrorStreamLogger(console.Error, Microsoft.Extensions.Logging.LogLevel.Debug) };
            }
            return await ExecuteAsync(options, quietly, console, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static TimeSpan? Duration(string option, string? text) =>
        text is null ? null
        : CallPolicy.TryParseDuration(text, out var value) && value >= TimeSpan.FromMilliseconds(10) ? value
        : throw new InputException(option, text, "expected a duration from 10ms to 24h such as 500ms, 30s, 2m or 1h");

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

    /// <summary>
    /// The default suite's models: every built-in agent, then the shipped baseline checkpoints (a run keeps those that play its
    /// tasks' families: torch/default the causal-DAG ones, the odd-one-out explanation baselines odd-one-out).
    /// </summary>
    internal static List<string> DefaultModels() =>
    [
        .. BuiltinAgents.All.Keys.Select(k => $"{BuiltinAgents.Prefix}/{k}"),
        TorchModelProvider.DefaultModelId,
        .. TorchModelProvider.OddOneOutNames.Where(n => TorchModelProvider.TryLocate(n) is not null).Select(n => $"{TorchModelProvider.ModelPrefix}/{n}"),
    ];

    /// <summary>Runs <paramref name="request"/> through the library's run session and prints the leaderboard and how it ended.</summary>
    internal static async Task<int> ExecuteAsync(RunRequest request, bool quiet, CliConsole console, TimeProvider time, CancellationToken cancellationToken)
    {
        // Exported over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed when the run ends.
        using var telemetry = Telemetry.FromEnvironment(Environment.GetEnvironmentVariable);
        using var run = EvaluationRun.Prepare(request, ModelsCommand.Catalog, time, line => console.Error.WriteLine(line));
        if (run.HasChatModels && run.Calls.CacheDirectory is { } cacheDirectory && !quiet)
        {
            await console.Error.WriteLineAsync($"response cache: {cacheDirectory}").ConfigureAwait(false);
        }
        RunResult result;
        using (var progress = RunProgress.Create(console, run.Session.Remaining, quiet, time, run.HasChatModels))
        {
            result = await run.RunAsync(null, cancellationToken, progress).ConfigureAwait(false);
        }
        var manifest = result.Manifest;
        var written = manifest.TrialsWritten;
        // Compact on the terminal; the by-task table is in leaderboard.md, the statistical one in `causaleval report`.
        await console.Out.WriteAsync(result.Leaderboard.ToSummary()).ConfigureAwait(false);
        await console.Out.WriteLineAsync().ConfigureAwait(false);
        await console.Out.WriteLineAsync($"results: {result.Directory} ({written} of {manifest.TrialsPlanned} trials)").ConfigureAwait(false);
        await console.Out.WriteLineAsync($"by task: {Path.Combine(result.Directory, "leaderboard.md")}").ConfigureAwait(false);
        if (run.HasChatModels)
        {
            var u = manifest.Usage;
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"cost: ${manifest.CostUsd:0.0000} for {u.InputTokens:N0} input + {u.OutputTokens:N0} output tokens billed; " +
                $"{u.CachedInputTokens:N0} + {u.CachedOutputTokens:N0} tokens answered from the response cache at no cost")).ConfigureAwait(false);
            if (u.UnmeteredAttempts > 0)
            {
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"note: {u.UnmeteredAttempts:N0} attempts were abandoned (timed out or cancelled) before the server reported usage; " +
                    $"the provider may bill them and no cost is counted for them (usage.unmetered_attempts in trials.jsonl)")).ConfigureAwait(false);
            }
        }
        if (run.Calls.Batches is { } batches)
        {
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"batch: {batches.Rounds} rounds, {batches.BatchesCreated} batches submitted, {batches.BatchesResumed} picked up from an earlier attempt")).ConfigureAwait(false);
            if (await batches.SettleOpenAsync(console.Ask, result.Directory).ConfigureAwait(false) is { } settled)
            {
                await console.Error.WriteLineAsync(settled).ConfigureAwait(false);
            }
        }
        switch (result.Status)
        {
            case RunStatus.Interrupted:
                await console.Error.WriteLineAsync(
                    $"interrupted after {written} of {manifest.TrialsPlanned} trials; finish with: causaleval run --resume {result.Directory}").ConfigureAwait(false);
                return CliApp.Failed;
            case RunStatus.StoppedByBudget:
                await console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"stopped by the budget: ${manifest.CostUsd:0.0000} spent of --max-cost ${manifest.MaxCostUsd:0.####} after {written} of {manifest.TrialsPlanned} trials; " +
                    $"to finish, raise the cap: causaleval run --resume {result.Directory} --max-cost <USD>")).ConfigureAwait(false);
                return CliApp.Failed;
            case RunStatus.Failed:
                if (manifest.FailureReason is { } reason)
                {
                    await console.Error.WriteLineAsync($"run failed: {reason}; finish with: causaleval run --resume {result.Directory}").ConfigureAwait(false);
                }
                if (manifest.TrialErrors > 0)
                {
                    await console.Error.WriteLineAsync(
                        $"{manifest.TrialErrors} trials ended in an error; see \"error\" in {JsonlResultStore.FileName} (replay the retryable ones with: causaleval run --resume {result.Directory} --retry-errors)").ConfigureAwait(false);
                }
                return CliApp.Failed;
            default:
                return CliApp.Ok;
        }
    }
}
