using System.Globalization;
using System.Threading.Channels;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Randomness;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tasks;
using CausalEval.Core.Results;

namespace CausalEval.Core.Running;

/// <summary>A task with the episodes a run plays from it.</summary>
public sealed record TaskEpisodes(TaskDefinition Task, IReadOnlyList<TaskEpisode> Episodes);

/// <summary>
/// How a run ended: trials planned (this time), written and ended in an error; whether it stopped early because it was
/// interrupted (<paramref name="Cancelled"/>) or because its spend reached the budget (<paramref name="StoppedByBudget"/>);
/// the usage and cost of the trials written.
/// </summary>
public sealed record RunOutcome(long Planned, long Written, long Errors, bool Cancelled, bool StoppedByBudget = false,
    Usage Usage = default, double CostUsd = 0)
{
    /// <summary>Why the run could not play its whole plan though nobody stopped it (a dead endpoint, a failed write); null: no such reason.</summary>
    public string? FailureReason { get; init; }

    /// <summary>Models whose remaining trials were not scheduled because their endpoint stayed unreachable, with the reason.</summary>
    public IReadOnlyDictionary<string, string> StoppedModels { get; init; } = NoModels;

    /// <summary>One shared empty map, so outcomes without stopped models compare equal.</summary>
    internal static readonly IReadOnlyDictionary<string, string> NoModels = new Dictionary<string, string>();
}

/// <summary>Counters of a run as trials are written: done of total (this attempt), errors and cost so far.</summary>
public readonly record struct RunCounters(long Done, long Total, long Errors, double CostUsd);

/// <summary>
/// Plays tasks × models × prompt variants × epochs with bounded concurrency. Trials have deterministic ids and
/// seeds; results reach the store in plan order, so the same seed gives the same <c>trials.jsonl</c>. Each trial's cost
/// is its billed usage priced by <paramref name="costs"/> (none: 0).
/// </summary>
public sealed class Runner(ModelCatalog models, TimeProvider time, ICostModel? costs = null)
{
    /// <summary>Finished trials may wait this many times the concurrency for an earlier, slower one before writing.</summary>
    private const int ReorderWindowPerWorker = 4;

    /// <summary>
    /// After a stop (Ctrl-C, SIGTERM), how long trials in flight may take to finish before they are abandoned (not written,
    /// so a resume plays them again): calls already on the wire usually answer within it, and a trial that is only waiting
    /// (a retry's back-off, a rate limiter's permit) does not hold the process for minutes.
    /// </summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A model whose trials end this many times in a row with <c>circuit_open</c> (its endpoint's circuit breaker stayed
    /// open through a whole call, retries included) is taken as unreachable: its remaining trials are not scheduled.
    /// </summary>
    public int DeadAfterOpenCircuits { get; init; } = 2;

    /// <summary>Trials the plan plays (only its shard's, when it has one).</summary>
    public static long CountTrials(RunPlan plan, IReadOnlyList<TaskEpisodes> tasks)
        => plan.Shard is null
            ? tasks.Sum(t => (long)t.Episodes.Count) * plan.Models.Sum(m => (long)plan.VariantsFor(m).Count) * plan.Epochs
            : PlanTrials(plan, tasks).LongCount();

    /// <summary>
    /// Every trial of the plan, lazily, in plan order: task, episode, model, prompt variant, epoch. With a shard, only the
    /// shard's trials, keeping their ids, seeds and plan indexes (a trial is the same trial in a shard as in the whole run).
    /// </summary>
    public static IEnumerable<TrialSpec> PlanTrials(RunPlan plan, IReadOnlyList<TaskEpisodes> tasks)
    {
        long index = 0;
        var seedText = plan.Seed.ToString(CultureInfo.InvariantCulture);
        foreach (var (task, episodes) in tasks)
        {
            var version = task.Version.ToString(CultureInfo.InvariantCulture);
            foreach (var episode in episodes)
            {
                for (var epoch = 1; epoch <= plan.Epochs; epoch++)
                {
                    var epochText = epoch.ToString(CultureInfo.InvariantCulture);
                    // Environment noise depends on the episode and epoch only, so every model meets the same draws.
                    var environmentSeed = StableId.Seed("environment", task.Id, version, episode.Id, epochText, seedText) & ((1UL << 53) - 1);
                    foreach (var model in plan.Models)
                    {
                        var naming = plan.NamingFor(model);
                        foreach (var variant in plan.VariantsFor(model))
                        {
                            // The naming scheme joins the id only when there is one, so ids of other models stay as they were.
                            var trialId = naming is null
                                ? StableId.Hex16(task.Id, version, plan.Split, episode.Id, model, variant, epochText, seedText)
                                : StableId.Hex16(task.Id, version, plan.Split, episode.Id, model, variant, epochText, seedText, naming);
                            var position = index++;
                            if (plan.Shard is { } shard && !shard.Contains(trialId))
                            {
                                continue;
                            }
                            yield return new TrialSpec(position, trialId, task.Id, task.Version, plan.Split, episode, model, variant,
                                epoch, environmentSeed, StableId.Seed("agent", trialId), naming, task, plan.ModelNames.GetValueOrDefault(model));
                        }
                    }
                }
            }
        }
    }

    /// <param name="stopScheduling">Cancelled: no new trial starts; trials already started finish and are written.</param>
    /// <param name="finished">Trial ids already in the results (a resumed run): they are not played again.</param>
    /// <param name="abort">Cancelled: trials in flight are abandoned too (they are not written).</param>
    /// <param name="budget">Counts each trial's cost as it finishes; once its cap is reached no new trial starts.</param>
    /// <param name="written">Called with each record once it is in the store (in plan order, one at a time).</param>
    /// <remarks>
    /// A stop on <paramref name="stopScheduling"/> gives trials in flight <see cref="StopGrace"/> to finish, then abandons
    /// them. A failed write to the store (a full disk) stops scheduling, abandons what is in flight and ends the outcome
    /// with its <see cref="RunOutcome.FailureReason"/>; so does a model found unreachable, for that model's trials only.
    /// </remarks>
    public async Task<RunOutcome> RunAsync(RunPlan plan, IReadOnlyList<TaskEpisodes> tasks, IResultStore store,
        Leaderboard leaderboard, IProgress<long>? progress = null, CancellationToken stopScheduling = default,
        IReadOnlySet<string>? finished = null, CancellationToken abort = default, RunBudget? budget = null,
        Action<TrialRecord>? written = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.Concurrency, 1);
        // Resolve every model before the first trial, so a bad id fails the run up front.
        var factories = plan.Models.Distinct().ToDictionary(m => m, models.Resolve, StringComparer.Ordinal);
        var planned = CountTrials(plan, tasks) - (finished?.Count ?? 0);
        using var activity = RunTelemetry.StartRun(plan, planned);
        var inFlight = Channel.CreateBounded<Task<TrialRecord>>(new BoundedChannelOptions(plan.Concurrency * ReorderWindowPerWorker)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        using var workers = new SemaphoreSlim(plan.Concurrency);
        // Trials are abandoned on abort, at the end of a stop's grace period, or when the results can no longer be written.
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(abort);
        using var scheduling = CancellationTokenSource.CreateLinkedTokenSource(stopScheduling, abandon.Token, budget?.Token ?? default);
        // On the run's clock, so tests move it; disposed with the run, so a late stop cancels nothing.
        ITimer? graceTimer = null;
        var graceGate = new object();
        using var grace = stopScheduling.Register(() =>
        {
            lock (graceGate)
            {
                graceTimer ??= time.CreateTimer(_ => CancelQuietly(abandon), null, StopGrace, Timeout.InfiniteTimeSpan);
            }
        });
        var dead = new DeadModels(DeadAfterOpenCircuits);

        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var spec in PlanTrials(plan, tasks))
                {
                    if (finished?.Contains(spec.TrialId) == true || dead.IsDead(spec.Model))
                    {
                        continue;
                    }
                    await workers.WaitAsync(scheduling.Token).ConfigureAwait(false);
                    // A slot released just after a stop (Ctrl-C, the budget) can still be granted to this waiter:
                    // look again, so no trial starts once scheduling has stopped.
                    if (scheduling.IsCancellationRequested)
                    {
                        workers.Release();
                        break;
                    }
                    if (dead.IsDead(spec.Model))
                    {
                        workers.Release();
                        continue;
                    }
                    var trial = StartTrial(spec, factories[spec.Model], workers, plan.Concurrency > 1, budget, dead, plan.Observer, abandon.Token);
                    // Not cancellable: a trial that has started is always awaited and written (its calls are paid for).
                    await inFlight.Writer.WriteAsync(trial, CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (scheduling.IsCancellationRequested)
            {
                // Scheduling stopped; trials already started still finish and are written.
            }
            finally
            {
                inFlight.Writer.Complete();
            }
        }, CancellationToken.None);

        long writtenCount = 0, errors = 0;
        var cancelled = false;
        var usage = default(Usage);
        var cost = 0.0;
        string? writeFailure = null;
        await foreach (var trial in inFlight.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            TrialRecord record;
            try
            {
                record = await trial.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                cancelled = writeFailure is null;
                await scheduling.CancelAsync().ConfigureAwait(false);
                continue;
            }
            if (writeFailure is not null)
            {
                continue;
            }
            try
            {
                await store.AppendAsync(record, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A full disk or a vanished folder: nothing more can be kept, so stop at once (a resume replays what is missing).
                writeFailure = $"writing {JsonlResultStoreName(store)} failed: {ex.Message}; the trials not written are played again by --resume once the problem is fixed";
                await abandon.CancelAsync().ConfigureAwait(false);
                continue;
            }
            leaderboard.Add(record);
            writtenCount++;
            usage += record.Usage;
            cost += record.Cost;
            if (record.Error is not null)
            {
                errors++;
            }
            written?.Invoke(record);
            progress?.Report(writtenCount);
        }
        await producer.ConfigureAwait(false);
        lock (graceGate)
        {
            graceTimer?.Dispose();
            graceTimer = NoTimer.Instance;
        }
        var incomplete = writtenCount < planned;
        var interrupted = writeFailure is null && (cancelled || stopScheduling.IsCancellationRequested || abort.IsCancellationRequested);
        var byBudget = incomplete && !interrupted && writeFailure is null && budget?.Reached == true;
        var stopped = dead.Reasons() is { Count: > 0 } reasons ? reasons : RunOutcome.NoModels;
        var outcome = new RunOutcome(planned, writtenCount, errors, interrupted && incomplete, byBudget, usage, cost)
        {
            FailureReason = writeFailure ?? (stopped.Count > 0 && incomplete
                ? string.Join("; ", stopped.Select(p => $"{p.Key}: {p.Value}"))
                : null),
            StoppedModels = stopped,
        };
        RunTelemetry.EndRun(activity, outcome);
        return outcome;
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run already ended.
        }
    }

    /// <summary>Stands for the grace timer once the run has ended, so a stop that comes later starts none.</summary>
    private sealed class NoTimer : ITimer
    {
        public static readonly NoTimer Instance = new();

        public bool Change(TimeSpan dueTime, TimeSpan period) => false;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static string JsonlResultStoreName(IResultStore store) => store is JsonlResultStore jsonl ? jsonl.Path : "the results";

    /// <summary>Models taken as unreachable: counts each model's trials that ended, in a row, with an open circuit.</summary>
    private sealed class DeadModels(int threshold)
    {
        private readonly Dictionary<string, int> _inARow = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _dead = new(StringComparer.Ordinal);

        public bool IsDead(string model)
        {
            lock (_inARow)
            {
                return _dead.ContainsKey(model);
            }
        }

        public void Finished(TrialRecord record)
        {
            var model = record.Spec.Model;
            lock (_inARow)
            {
                if (record.Error?.Kind != TrialError.CircuitOpenKind)
                {
                    _inARow[model] = 0;
                    return;
                }
                var count = _inARow[model] = _inARow.GetValueOrDefault(model) + 1;
                if (threshold > 0 && count >= threshold && !_dead.ContainsKey(model))
                {
                    _dead[model] = string.Create(CultureInfo.InvariantCulture,
                        $"not scheduled any more after {count} trials in a row ended with the endpoint's circuit breaker open (the endpoint looks down: {record.Error.Message})");
                }
            }
        }

        public IReadOnlyDictionary<string, string> Reasons()
        {
            lock (_inARow)
            {
                return new Dictionary<string, string>(_dead, StringComparer.Ordinal);
            }
        }
    }

    private Task<TrialRecord> StartTrial(TrialSpec spec, AgentFactory factory, SemaphoreSlim workers, bool parallel, RunBudget? budget,
        DeadModels dead, bool observer, CancellationToken cancellationToken)
    {
        async Task<TrialRecord> Run()
        {
            try
            {
                var record = await RunTrialAsync(spec, factory, cancellationToken, observer).ConfigureAwait(false);
                // Counted as soon as the trial finishes (not when it is written in plan order), so scheduling stops promptly.
                budget?.Add(record.Cost);
                dead.Finished(record);
                return record;
            }
            finally
            {
                workers.Release();
            }
        }
        return parallel ? Task.Run(Run, CancellationToken.None) : Run();
    }

    /// <summary>
    /// Plays and scores one trial; an agent's exception ends the trial with a recorded error, not the run. The error's kind
    /// is the classification of an <see cref="AgentFailureException"/> (e.g. <c>rate_limited</c>), else the exception's
    /// type name; the usage of the calls made before the failure is kept, and priced.
    /// </summary>
    /// <param name="observer">Also score with the ideal observer (<see cref="EpisodeScoring.WithObserver"/>) and keep its
    /// per-step view on the record.</param>
    public async Task<TrialRecord> RunTrialAsync(TrialSpec spec, AgentFactory factory, CancellationToken cancellationToken, bool observer = true)
    {
        var activity = RunTelemetry.StartTrial(spec);
        try
        {
            var record = await PlayTrialAsync(spec, factory, observer, cancellationToken).ConfigureAwait(false);
            RunTelemetry.EndTrial(activity, record);
            return record;
        }
        finally
        {
            activity?.Dispose(); // an abandoned trial's span ends too (disposing twice is harmless)
        }
    }

    private async Task<TrialRecord> PlayTrialAsync(TrialSpec spec, AgentFactory factory, bool observer, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var start = time.GetTimestamp();
        var meter = new UsageMeter();
        IAgent? agent = null;
        try
        {
            agent = factory(new TrialContext(spec.TrialId, spec.Episode, spec.Epoch, spec.AgentSeed, spec.PromptVariant, spec.Naming, spec.Task, meter));
            EpisodeTranscript transcript;
            Scores scores;
            Inference.ObserverAnalysis? analysis = null;
            if (spec.Episode is OddOneOut.OddOneOutEpisode puzzle)
            {
                // The family's ideal observer is exact and cheap (three concepts), so its scores are always computed.
                transcript = await OddOneOut.OddOneOutEngine.RunAsync(puzzle, agent, cancellationToken).ConfigureAwait(false);
                scores = OddOneOut.OddOneOutScoring.Score(puzzle, transcript);
            }
            else
            {
                var episode = (Episode)spec.Episode;
                transcript = await EpisodeEngine.RunAsync(episode, agent, spec.EnvironmentSeed, cancellationToken).ConfigureAwait(false);
                scores = EpisodeScoring.Score(new ScoringInput(episode, transcript, spec.Task), observer ? EpisodeScoring.WithObserver : EpisodeScoring.Default);
                analysis = observer ? Inference.ObserverScoring.Analyse(episode, transcript, spec.Task) : null;
            }
            // The steps' answers, and the billed tokens of attempts that failed before an answer came.
            var usage = transcript.Usage + meter.Unanswered;
            return new TrialRecord(spec, transcript, scores, usage, Cost(spec, usage), time.GetElapsedTime(start), startedAt, time.GetUtcNow(), null)
            {
                Observer = analysis,
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            var usage = meter.Total;
            return new TrialRecord(spec, null, null, usage, Cost(spec, usage), time.GetElapsedTime(start), startedAt, time.GetUtcNow(),
                new TrialError(ex is AgentFailureException failure ? failure.Kind : ex.GetType().Name, ex.Message));
        }
        finally
        {
            // An agent that holds something for its trial (a batch run's count of live trials) lets go when the trial ends.
            (agent as IDisposable)?.Dispose();
        }
    }

    private double Cost(TrialSpec spec, Usage usage) =>
        costs is null || (usage.InputTokens == 0 && usage.OutputTokens == 0) ? 0 : costs.CostUsd(spec.Model, usage);
}
