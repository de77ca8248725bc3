using System.Diagnostics;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;

namespace CausalEval.Baseline;

/// <summary>What an evaluation found: scores per task and the policy's time per decision.</summary>
internal sealed record EvaluationResult(IReadOnlyList<TaskScores> Scores, long Decisions, double MillisecondsPerDecision);

/// <summary>
/// Plays a policy on tasks' committed test splits through the same <see cref="Runner"/>, engine and scorers as
/// <c>causaleval run</c> (run seed 0 by default, so the figures equal that command's), and also reports subset
/// adherence, which the leaderboard does not show.
/// </summary>
internal static class Evaluation
{
    public static async Task<EvaluationResult> RunAsync(TorchPolicy policy, TaskCatalog catalog, IReadOnlyList<string> taskIds,
        int? episodes = null, ulong seed = 0, CancellationToken cancellationToken = default)
    {
        var tasks = taskIds.Select(id => new TaskEpisodes(catalog.Load(id), [.. catalog.LoadTestSplit(id, episodes)])).ToList();
        var timing = new Timing();
        var models = new ModelCatalog([new SingleModel(_ => new TimedAgent(new TorchAgent(policy), timing))]);
        var plan = new RunPlan
        {
            Tasks = [.. tasks.Select(t => t.Task)],
            Models = [TorchModelProvider.DefaultModelId],
            Seed = seed,
            Concurrency = 1,
        };
        var store = new TallyStore();
        await new Runner(models, TimeProvider.System).RunAsync(plan, tasks, store, new Leaderboard(), null, cancellationToken).ConfigureAwait(false);
        return new EvaluationResult(
            [.. tasks.Select(t => store.Scores(t.Task))],
            timing.Decisions,
            timing.Decisions > 0 ? timing.Elapsed.TotalMilliseconds / timing.Decisions : 0);
    }

    private sealed class SingleModel(AgentFactory factory) : IModelProvider
    {
        public string Prefix => TorchModelProvider.ModelPrefix;

        public AgentFactory Resolve(string name, string modelId) => factory;
    }

    private sealed class Timing
    {
        private long _ticks;
        private long _decisions;

        public long Decisions => Interlocked.Read(ref _decisions);

        public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks));

        public void Add(long ticks)
        {
            Interlocked.Add(ref _ticks, ticks);
            Interlocked.Increment(ref _decisions);
        }
    }

    private sealed class TimedAgent(IAgent inner, Timing timing) : IAgent
    {
        public async ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
        {
            var start = Stopwatch.GetTimestamp();
            var decision = await inner.DecideAsync(view, cancellationToken).ConfigureAwait(false);
            timing.Add(Stopwatch.GetTimestamp() - start);
            return decision;
        }
    }

    /// <summary>Per-task sums of the scores the model card reports.</summary>
    private sealed class TallyStore : IResultStore
    {
        private readonly Dictionary<string, Tally> _tallies = new(StringComparer.Ordinal);

        public ValueTask AppendAsync(TrialRecord record, CancellationToken cancellationToken)
        {
            if (!_tallies.TryGetValue(record.Spec.TaskId, out var tally))
            {
                _tallies[record.Spec.TaskId] = tally = new Tally();
            }
            tally.Add(record);
            return ValueTask.CompletedTask;
        }

        public TaskScores Scores(TaskDefinition task)
        {
            var t = _tallies.GetValueOrDefault(task.Id) ?? new Tally();
            return new TaskScores
            {
                Task = task.Id,
                Version = task.Version,
                Episodes = t.Trials,
                Normalized = Round(t.Scored > 0 ? t.Normalized / t.Scored : 0),
                OptimalAction = Round(t.Scored > 0 ? t.Optimal / t.Scored : 0),
                ExploreCoverage = t.Coverage.Value,
                SubsetAdherence = t.Adherence.Value,
                StructureF1 = t.StructureF1.Value,
                InvalidRate = Round(t.Decisions > 0 ? (double)t.Bad / t.Decisions : 0),
                Errors = t.Errors,
            };
        }

        private static double Round(double value) => Math.Round(value, 4);

        private sealed class Tally
        {
            public int Trials, Scored, Errors;
            public long Decisions, Bad;
            public double Normalized, Optimal;
            public readonly Average Coverage = new(), Adherence = new(), StructureF1 = new();

            public void Add(TrialRecord record)
            {
                Trials++;
                if (record.Scores is not { } s)
                {
                    Errors++;
                    return;
                }
                Scored++;
                // As the leaderboard counts it: no valid exploit action is value 0.
                Normalized += s.Normalized ?? 0;
                Optimal += s.OptimalAction;
                Coverage.Add(s.ExploreCoverage);
                Adherence.Add(s.SubsetAdherence);
                StructureF1.Add(s.StructureF1);
                Decisions += record.Transcript?.Steps.Length ?? 0;
                Bad += s.InvalidActions + s.ParseFailures;
            }
        }

        private sealed class Average
        {
            private double _sum;
            private int _count;

            public double? Value => _count > 0 ? Math.Round(_sum / _count, 4) : null;

            public void Add(double? value)
            {
                if (value is { } v)
                {
                    _sum += v;
                    _count++;
                }
            }
        }
    }
}
