using System.Globalization;
using System.Threading.Channels;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Randomness;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tasks;

namespace CausalEval.Core.Running;

/// <summary>A task with the episodes a run plays from it.</summary>
public sealed record TaskEpisodes(TaskDefinition Task, IReadOnlyList<Episode> Episodes);

/// <summary>
/// How a run ended: trials planned (this time), written and ended in an error; whether it stopped early because it was
/// interrupted (<paramref name="Cancelled"/>) or because its spend reached the budget (<paramref name="StoppedByBudget"/>);
/// the usage and cost of the trials written.
/// </summary>
public sealed record RunOutcome(long Planned, long Written, long Errors, bool Cancelled, bool StoppedByBudget = false,
    Usage Usage = default, double CostUsd = 0);

/// <summary>
/// Plays tasks × models × prompt variants × epochs with bounded concurrency. Trials have deterministic ids and
/// seeds; results reach the store in plan order, so the same seed gives the same <c>trials.jsonl</c>. Each trial's cost
/// is its billed usage priced by <paramref name="costs"/> (none: 0).
/// </summary>
public sealed class Runner(ModelCatalog models, TimeProvider time, ICostModel? costs = null)
{
    /// <summary>Finished trials may wait this many times the concurrency for an earlier, slower one before writing.</summary>
    private const int ReorderWindowPerWorker = 4;

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
    public async Task<RunOutcome> RunAsync(RunPlan plan, IReadOnlyList<TaskEpisodes> tasks, IResultStore store,
        Leaderboard leaderboard, IProgress<long>? progress = null, CancellationToken stopScheduling = default,
        IReadOnlySet<string>? finished = null, CancellationToken abort = default, RunBudget? budget = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.Concurrency, 1);
        // Resolve every model before the first trial, so a bad id fails the run up front.
        var factories = plan.Models.Distinct().ToDictionary(m => m, models.Resolve, StringComparer.Ordinal);
        var planned = CountTrials(plan, tasks) - (finished?.Count ?? 0);
        var inFlight = Channel.CreateBounded<Task<TrialRecord>>(new BoundedChannelOptions(plan.Concurrency * ReorderWindowPerWorker)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        using var workers = new SemaphoreSlim(plan.Concurrency);
        using var scheduling = CancellationTokenSource.CreateLinkedTokenSource(stopScheduling, abort, budget?.Token ?? default);

        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var spec in PlanTrials(plan, tasks))
                {
                    if (finished?.Contains(spec.TrialId) == true)
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
                    var trial = StartTrial(spec, factories[spec.Model], workers, plan.Concurrency > 1, budget, abort);
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

        long written = 0, errors = 0;
        var cancelled = false;
        var usage = default(Usage);
        var cost = 0.0;
        await foreach (var trial in inFlight.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            TrialRecord record;
            try
            {
                record = await trial.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                cancelled = true;
                await scheduling.CancelAsync().ConfigureAwait(false);
                continue;
            }
            await store.AppendAsync(record, CancellationToken.None).ConfigureAwait(false);
            leaderboard.Add(record);
            written++;
            usage += record.Usage;
            cost += record.Cost;
            if (record.Error is not null)
            {
                errors++;
            }
            progress?.Report(written);
        }
        await producer.ConfigureAwait(false);
        var incomplete = written < planned;
        var interrupted = cancelled || stopScheduling.IsCancellationRequested || abort.IsCancellationRequested;
        var byBudget = incomplete && !interrupted && budget?.Reached == true;
        return new RunOutcome(planned, written, errors, interrupted && incomplete, byBudget, usage, cost);
    }

    private Task<TrialRecord> StartTrial(TrialSpec spec, AgentFactory factory, SemaphoreSlim workers, bool parallel, RunBudget? budget,
        CancellationToken cancellationToken)
    {
        async Task<TrialRecord> Run()
        {
            try
            {
                var record = await RunTrialAsync(spec, factory, cancellationToken).ConfigureAwait(false);
                // Counted as soon as the trial finishes (not when it is written in plan order), so scheduling stops promptly.
                budget?.Add(record.Cost);
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
    public async Task<TrialRecord> RunTrialAsync(TrialSpec spec, AgentFactory factory, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var start = time.GetTimestamp();
        var meter = new UsageMeter();
        try
        {
            var agent = factory(new TrialContext(spec.TrialId, spec.Episode, spec.Epoch, spec.AgentSeed, spec.PromptVariant, spec.Naming, spec.Task, meter));
            var transcript = await EpisodeEngine.RunAsync(spec.Episode, agent, spec.EnvironmentSeed, cancellationToken).ConfigureAwait(false);
            var scores = EpisodeScoring.Score(new ScoringInput(spec.Episode, transcript));
            // The steps' answers, and the billed tokens of attempts that failed before an answer came.
            var usage = transcript.Usage + meter.Unanswered;
            return new TrialRecord(spec, transcript, scores, usage, Cost(spec, usage), time.GetElapsedTime(start), startedAt, time.GetUtcNow(), null);
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
    }

    private double Cost(TrialSpec spec, Usage usage) =>
        costs is null || (usage.InputTokens == 0 && usage.OutputTokens == 0) ? 0 : costs.CostUsd(spec.Model, usage);
}
