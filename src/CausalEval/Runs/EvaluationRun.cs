using System.Globalization;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Models;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Templates;
using CausalEval.Core.Results;
using CausalEval.Models.Costs;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;

namespace CausalEval.Runs;

/// <summary>
/// A run ready to play: a <see cref="RunRequest"/> turned into its call policy, model catalog and <see cref="RunSession"/>
/// (a new run, or an interrupted one reopened). Every input is checked before a run folder is created, so bad input
/// leaves nothing behind. Used by <c>causaleval run</c> and by the library API (<c>CausalEvaluation</c>).
/// </summary>
internal sealed class EvaluationRun : IDisposable
{
    private readonly TimeProvider _time;

    private EvaluationRun(RunSession session, ModelCalls calls, ModelCatalog models, double? maxCost, TimeProvider time)
    {
        Session = session;
        Calls = calls;
        Models = models;
        MaxCost = maxCost;
        _time = time;
    }

    public RunSession Session { get; }

    /// <summary>The run's model-call machinery (response cache, resilience, limits) shared by every chat model.</summary>
    public ModelCalls Calls { get; }

    public ModelCatalog Models { get; }

    /// <summary>This attempt's spending cap.</summary>
    public double? MaxCost { get; }

    /// <summary>True when the run has chat models (it then has a call policy, usage and cost worth printing).</summary>
    public bool HasChatModels => Session.Manifest.CallPolicyJson is not null;

    /// <param name="request">What to run.</param>
    /// <param name="catalog">The model providers, given the run's call machinery for chat models.</param>
    /// <param name="time">The run's clock.</param>
    /// <param name="log">Notices and warnings, one line each (e.g. to standard error).</param>
    public static EvaluationRun Prepare(RunRequest request, Func<ModelCalls, ModelCatalog> catalog, TimeProvider time, Action<string> log)
    {
        if (request.Concurrency is < 1)
        {
            throw new InputException("--concurrency", request.Concurrency.Value.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        if (request.MaxCost is { } cap && !(cap >= 0 && double.IsFinite(cap)))
        {
            throw new InputException("--max-cost", cap.ToString(CultureInfo.InvariantCulture), "must be a number of US dollars ≥ 0");
        }
        if (request.RetryErrors && request.Resume is null)
        {
            throw new InputException("--retry-errors", "--resume", "replays the failed trials of an existing run: give the run folder with --resume DIR");
        }
        var resumed = request.Resume is { } resumeDirectory ? RunManifest.Load(resumeDirectory) : null;
        var policy = resumed is null ? NewPolicy(request) : ResumedPolicy(request.Resume!, resumed, request);
        // A cache warning may quote a server's words: scrubbed of keys like everything else that is printed.
        var redactor = ProviderEnvironment.Process.Redactor();
        var calls = new ModelCalls(policy, time, warn: message => log($"warning: {redactor.Scrub(message)}"), logging: request.ChatLogging,
            batch: request.BatchSettings);
        try
        {
            var models = catalog(calls);
            var session = resumed is not null
                ? Resume(request.Resume!, resumed, request, models, policy, log)
                : Start(request, models, time, policy, log);
            calls.Batches?.Open(session.Directory);
            return new EvaluationRun(session, calls, models, request.MaxCost ?? session.Manifest.MaxCostUsd, time);
        }
        catch
        {
            calls.Dispose();
            throw;
        }
    }

    /// <summary>Plays the run to its end (or until <paramref name="cancellationToken"/> stops it) and returns how it ended.</summary>
    public async Task<RunResult> RunAsync(IProgress<long>? progress, CancellationToken cancellationToken, IProgress<RunCounters>? counters = null)
    {
        using var stop = Calls.Batches is { } batches ? ExpectBatchTrials(batches, cancellationToken) : default;
        return await Session.RunAsync(Models, _time, Calls.Policy.Prices, progress, MaxCost, cancellationToken, counters).ConfigureAwait(false);
    }

    /// <summary>
    /// Tells the batch machinery how many trials of each batched model this attempt starts (every one at once: a batch
    /// run's concurrency is its trial count), so a round closes only once they all wait; a stop ends the wait.
    /// </summary>
    private CancellationTokenRegistration ExpectBatchTrials(CausalEval.Models.Batch.BatchRuns batches, CancellationToken stop)
    {
        foreach (var group in Runner.PlanTrials(Session.Plan, Session.Tasks)
            .Where(t => CausalEval.Models.Batch.BatchRuns.Covers(t.Model) && !Session.Finished.Contains(t.TrialId))
            .GroupBy(t => t.Model, StringComparer.Ordinal))
        {
            batches.Expect(group.Key, group.LongCount());
        }
        return stop.Register(batches.StopExpecting);
    }

    public void Dispose()
    {
        Session.Dispose();
        Calls.Dispose();
    }

    /// <summary>
    /// A new run's call policy: the limits, the cache options, and the prices — the committed defaults, then
    /// <c>--prices</c> (or the plan's <c>prices</c> file), then the per-model prices.
    /// </summary>
    private static CallPolicy NewPolicy(RunRequest request)
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
        if (request.PricesFile is { } file)
        {
            prices = prices.With(PriceTable.Load(file).All, file);
        }
        if (request.ModelPrices.Count > 0)
        {
            prices = prices.With(request.ModelPrices, request.ModelPricesSource ?? "the run's model prices");
        }
        if (request.Batch)
        {
            // The Batch API bills its own rates (half the standard ones unless the table says otherwise).
            prices = prices.Batched(CausalEval.Models.Batch.BatchRuns.Covers);
        }
        return WithOverrides(new CallPolicy
        {
            Cache = new CacheSettings(!request.NoCache, request.CacheDirectory is { } dir ? Path.GetFullPath(dir) : null),
            // A batch may take the provider's whole 24-hour window: a batched call waits for it.
            Resilience = request.Batch
                ? request.Resilience with { AttemptTimeout = CallPolicy.MaxDuration, CallTimeout = CallPolicy.MaxDuration }
                : request.Resilience,
            Batch = request.Batch,
            Providers = request.ProviderLimits,
            Models = request.ModelLimits,
            Prices = prices,
            MaxResponseBytes = request.MaxResponseBytes ?? new CallPolicy().MaxResponseBytes,
        }, request);
    }

    /// <summary>The command line's timeouts and response cap over the policy's.</summary>
    private static CallPolicy WithOverrides(CallPolicy policy, RunRequest request) => policy with
    {
        Resilience = policy.Resilience with
        {
            AttemptTimeout = request.AttemptTimeoutOverride ?? policy.Resilience.AttemptTimeout,
            CallTimeout = request.CallTimeoutOverride ?? policy.Resilience.CallTimeout,
        },
        MaxResponseBytes = request.MaxResponseBytesOverride ?? policy.MaxResponseBytes,
    };

    /// <summary>A resumed run's call policy, as run.json recorded it (its prices too); only the cache options may change.</summary>
    private static CallPolicy ResumedPolicy(string directory, RunManifest manifest, RunRequest request)
    {
        var policy = manifest.CallPolicyJson is { } json
            ? CallPolicy.FromJson(Path.Combine(directory, RunManifest.FileName) + ":call_policy", json)
            : new CallPolicy();
        var cache = policy.Cache;
        if (request.NoCache)
        {
            cache = cache with { Enabled = false };
        }
        if (request.CacheDirectory is { } dir)
        {
            cache = new CacheSettings(cache.Enabled, Path.GetFullPath(dir));
        }
        return WithOverrides(policy with { Cache = cache }, request);
    }

    /// <summary>A budget needs a price for every chat model (bad input otherwise); without one, a missing price is a warning.</summary>
    private static void CheckPrices(IEnumerable<string> models, ModelCatalog catalog, PriceTable prices, double? maxCost, Action<string> log,
        bool resumed = false)
    {
        foreach (var model in models.Where(catalog.TakesPrompts))
        {
            if (prices.Find(model) is not null)
            {
                continue;
            }
            if (maxCost is { } cap)
            {
                throw new InputException("--max-cost", cap.ToString(CultureInfo.InvariantCulture), resumed
                    // A resumed run keeps the prices it started with (--prices and plans are refused on resume).
                    ? $"no price for {model} in {prices.Source}: the run started without one, so its budget cannot be enforced; start a new run with --prices FILE or a plan's models[].price"
                    : $"no price for {model} in {prices.Source}: add it with --prices FILE or a plan's models[].price");
            }
            log($"warning: no price for {model} in {prices.Source}; its cost is counted as 0");
        }
    }

    /// <summary>A batch run's concurrency: all its trials (bounded, as the runner's queue is sized from it).</summary>
    private static int BatchConcurrency(long trials) => (int)Math.Clamp(trials, 1, 1_000_000);

    /// <summary>A new run. Everything is checked before the run folder exists, so bad input leaves nothing behind.</summary>
    private static RunSession Start(RunRequest request, ModelCatalog catalog, TimeProvider time, CallPolicy policy, Action<string> log)
    {
        if (request.Episodes is < 1)
        {
            throw new InputException("--episodes", request.Episodes.Value.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        if (request.Epochs < 1)
        {
            throw new InputException("--epochs", request.Epochs.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        var datasets = TaskCatalog.Locate(request.Datasets);
        var taskIds = request.Tasks.Count > 0 ? request.Tasks.Distinct().ToList() : datasets.DagTaskIds();
        if (taskIds.Count == 0)
        {
            // A run of nothing would "finish" with 0 trials: almost always the wrong folder.
            throw new InputException("--datasets", datasets.Root, $"no tasks here (a task is a folder with {TaskCatalog.TaskFileName})");
        }
        var selected = taskIds.Select(datasets.Load).Select(task => new TaskEpisodes(task, [.. datasets.LoadEpisodes(task, request.Split, request.Episodes)])).ToList();
        // The default models are those that play every selected task's family; a model named that does not is bad input.
        var families = selected.Select(t => t.Task.Family).Distinct(StringComparer.Ordinal).ToList();
        var (modelIds, modelNames) = ModelEntry.Collect(request.Models.Count > 0
            ? request.Models
            : [.. request.DefaultModels.Where(m => families.All(f => catalog.Plays(m, f)))], "--model");
        foreach (var model in modelIds)
        {
            if (selected.FirstOrDefault(t => !catalog.Plays(model, t.Task.Family)) is { } unplayable)
            {
                throw new InputException("--model", model, $"does not play {unplayable.Task.Family} tasks (--task {unplayable.Task.Id}); choose another model or task");
            }
        }
        if (!NamingSchemes.All.Contains(request.Naming))
        {
            throw new InputException("--names", request.Naming, $"unknown naming scheme (known: {string.Join(", ", NamingSchemes.All)})");
        }
        // Chat models play every --prompt variant (default: the default variant) under the --names scheme; other models once.
        var promptModels = modelIds.Where(catalog.TakesPrompts).ToHashSet(StringComparer.Ordinal);
        IReadOnlyList<string?> variants = [null];
        if (promptModels.Count > 0)
        {
            var library = PromptLibrary.Locate();
            var wanted = request.Prompts.Count > 0 ? request.Prompts.Distinct().ToList() : [PromptLibrary.DefaultVariant];
            library.Check(wanted, selected.Select(t => t.Task.Family));
            library.Names(request.Naming);
            variants = wanted;
        }
        foreach (var model in modelIds)
        {
            catalog.Resolve(model);
        }
        CheckPrices(modelIds, catalog, policy.Prices, request.MaxCost, log);
        var plan = new RunPlan
        {
            Tasks = [.. selected.Select(t => t.Task)],
            Models = modelIds,
            ModelNames = modelNames,
            PromptModels = promptModels,
            PromptVariants = variants,
            Naming = promptModels.Count > 0 ? request.Naming : null,
            Epochs = request.Epochs,
            Seed = request.Seed,
            Concurrency = request.Concurrency ?? Environment.ProcessorCount,
            Episodes = request.Episodes,
            Split = request.Split,
            Shard = request.Shard,
            Observer = request.Observer,
        };
        if (policy.Batch)
        {
            // Every trial starts at once: a round holds the next request of every live trial, and the provider is the queue.
            plan = plan with { Concurrency = BatchConcurrency(Runner.CountTrials(plan, selected)) };
        }
        var identity = new RunIdentity
        {
            CommandLine = request.CommandLine,
            ToolVersion = request.ToolVersion,
            GitRevision = request.GitRevision,
            MaxCostUsd = request.MaxCost,
            CallPolicyJson = promptModels.Count > 0 ? policy.ToJson(modelIds) : null,
            OutputOrigin = request.OutputOrigin,
        };
        return RunSession.Start(plan, selected, datasets, identity, request.Output, time);
    }

    /// <summary>An interrupted run: its plan from run.json, checked against the datasets and the catalog, then reopened.</summary>
    private static RunSession Resume(string directory, RunManifest manifest, RunRequest request, ModelCatalog catalog, CallPolicy policy, Action<string> log)
    {
        var datasets = TaskCatalog.Locate(request.Datasets);
        var (plan, tasks) = RunSession.ResumedPlan(directory, manifest, datasets, catalog.TakesPrompts,
            policy.Batch ? BatchConcurrency(manifest.TrialsPlanned) : request.Concurrency);
        foreach (var model in manifest.Models)
        {
            catalog.Resolve(model);
        }
        CheckPrices(manifest.Models, catalog, policy.Prices, request.MaxCost ?? manifest.MaxCostUsd, log, resumed: true);
        return RunSession.Resume(directory, manifest, plan, tasks, log, request.RetryErrors);
    }
}
