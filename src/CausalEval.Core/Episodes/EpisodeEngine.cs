using System.Collections.Immutable;
using System.Runtime.InteropServices;
using CausalEval.Core.Agents;
using CausalEval.Core.Randomness;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Episodes;

/// <summary>
/// Plays the explore → exploit (→ structure) protocol of DESIGN §1.2 between an agent and a world.
/// An invalid or unreadable answer is recorded, shown to the agent as such, and uses up its step.
/// </summary>
public static class EpisodeEngine
{
    public static ValueTask<EpisodeTranscript> RunAsync(
        Episode episode, IAgent agent, ulong environmentSeed, CancellationToken cancellationToken = default)
    {
        var run = new EpisodeRun(episode, environmentSeed);
        // Agents that answer synchronously (the built-in ones) are played here without an async state machine. From the
        // first answer that is not ready, or the first failure, PlayRestAsync carries on from the same step, so the
        // steps, their order and how a failure or cancellation ends the returned task are the same either way.
        try
        {
            while (run.NextView(cancellationToken) is { } view)
            {
                var activity = Running.RunTelemetry.StartStep(view);
                var pending = DecideAsync(agent, view, activity, cancellationToken);
                if (!pending.IsCompletedSuccessfully)
                {
                    return PlayRestAsync(run, agent, pending, activity, cancellationToken);
                }
                run.Record(pending.Result, activity);
            }
        }
        catch (Exception ex)
        {
            return PlayRestAsync(run, agent, ValueTask.FromException<AgentDecision>(ex), null, cancellationToken);
        }
        return new(run.Transcript());
    }

    /// <summary>Awaits the pending decision (rethrowing its failure), then plays the episode's remaining steps.</summary>
    private static async ValueTask<EpisodeTranscript> PlayRestAsync(EpisodeRun run, IAgent agent, ValueTask<AgentDecision> pending,
        System.Diagnostics.Activity? activity, CancellationToken cancellationToken)
    {
        run.Record(await pending.ConfigureAwait(false), activity);
        while (run.NextView(cancellationToken) is { } view)
        {
            var next = Running.RunTelemetry.StartStep(view);
            run.Record(await DecideAsync(agent, view, next, cancellationToken).ConfigureAwait(false), next);
        }
        return run.Transcript();
    }

    /// <summary>
    /// One episode in play: the protocol's next step and the steps so far, in an array of the episode's length. Agents see
    /// this live list read-only, and the full array becomes the transcript without a copy (nothing writes to it after the
    /// last step).
    /// </summary>
    private sealed class EpisodeRun(Episode episode, ulong environmentSeed) : IReadOnlyList<StepRecord>
    {
        private readonly SeededRandom _random = new(environmentSeed);
        private readonly int _exploreSteps = episode.ExploreSteps;
        private readonly StepRecord[] _steps = new StepRecord[episode.ExploreSteps + 1 + (episode.Options.AskStructure ? 1 : 0)];

        public int Count { get; private set; }

        public StepRecord this[int index] => (uint)index < (uint)Count ? _steps[index] : throw new ArgumentOutOfRangeException(nameof(index));

        /// <summary>What the agent sees at the next step (explore steps, the exploit, then the structure question if asked); null when the episode is over.</summary>
        public EpisodeView? NextView(CancellationToken cancellationToken)
        {
            if (Count == _steps.Length)
            {
                return null;
            }
            cancellationToken.ThrowIfCancellationRequested();
            var phase = Count < _exploreSteps ? Phase.Explore : Count == _exploreSteps ? Phase.Exploit : Phase.Structure;
            var target = phase != Phase.Explore || episode.Options.GoalFirst ? episode.Target : null;
            return new EpisodeView(episode.Brief, phase, Count, target, this);
        }

        /// <summary>Checks and carries out the agent's decision at the current step, and ends the step's span.</summary>
        public void Record(AgentDecision decision, System.Diagnostics.Activity? activity)
        {
            var step = Count < _exploreSteps ? Explore(episode, Count, decision, _random)
                : Count == _exploreSteps ? Exploit(episode, Count, decision)
                : Structure(episode, Count, decision);
            _steps[Count++] = step;
            Running.RunTelemetry.EndStep(activity, step);
        }

        /// <summary>The played episode (called once <see cref="NextView"/> has said it is over: every step is filled).</summary>
        public EpisodeTranscript Transcript()
            => Count == _steps.Length ? new(ImmutableCollectionsMarshal.AsImmutableArray(_steps)) : throw new InvalidOperationException("the episode is not over");

        public IEnumerator<StepRecord> GetEnumerator() => ((IEnumerable<StepRecord>)new ArraySegment<StepRecord>(_steps, 0, Count)).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>The agent's decision; a step span (when traced) ends with the error if the agent fails.</summary>
    private static ValueTask<AgentDecision> DecideAsync(IAgent agent, EpisodeView view, System.Diagnostics.Activity? activity,
        CancellationToken cancellationToken)
        => activity is null ? agent.DecideAsync(view, cancellationToken) : TracedDecideAsync(agent, view, activity, cancellationToken);

    private static async ValueTask<AgentDecision> TracedDecideAsync(IAgent agent, EpisodeView view, System.Diagnostics.Activity activity,
        CancellationToken cancellationToken)
    {
        try
        {
            return await agent.DecideAsync(view, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            activity.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            activity.Dispose();
            throw;
        }
    }

    private static StepRecord Explore(Episode episode, int index, AgentDecision decision, SeededRandom random)
    {
        if (CheckIntervention(episode, decision, allowed: null, out var status, out var error) is not { } action)
        {
            // The noise for this step is still drawn, so later steps see the same noise whatever happened here.
            DrawUnused(episode.World, random);
            return new StepRecord(index, Phase.Explore, decision, status, error, default);
        }
        return new StepRecord(index, Phase.Explore, decision, StepStatus.Valid, null, Observe(episode, action, random));
    }

    private static StepRecord Exploit(Episode episode, int index, AgentDecision decision)
    {
        var action = CheckIntervention(episode, decision, episode.ExploitVariables, out var status, out var error);
        return new StepRecord(index, Phase.Exploit, decision, action is null ? status : StepStatus.Valid, error, default);
    }

    private static StepRecord Structure(Episode episode, int index, AgentDecision decision)
    {
        if (decision.Edges is not { } edges)
        {
            return new StepRecord(index, Phase.Structure, decision, StepStatus.ParseFailure,
                decision.ParseError ?? "the answer lists no edges", default);
        }
        var world = episode.World;
        foreach (var edge in edges)
        {
            var (from, to) = (world.IndexOf(edge.From), world.IndexOf(edge.To));
            if (from < 0 || to < 0 || world.IsHiddenByIndex[from] || world.IsHiddenByIndex[to])
            {
                return new StepRecord(index, Phase.Structure, decision, StepStatus.Invalid,
                    $"edge {edge} names an unknown variable", default);
            }
            // Equal names are one variable: the same index (without comparing the names' characters).
            if (from == to)
            {
                return new StepRecord(index, Phase.Structure, decision, StepStatus.Invalid, $"edge {edge} is a self-loop", default);
            }
        }
        return new StepRecord(index, Phase.Structure, decision, StepStatus.Valid, null, default);
    }

    private static Intervention? CheckIntervention(Episode episode, AgentDecision decision, ImmutableArray<string>? allowed,
        out StepStatus status, out string? error)
    {
        if (decision.Action is not { } action)
        {
            status = StepStatus.ParseFailure;
            error = decision.ParseError ?? "the answer contains no action";
            return null;
        }
        status = StepStatus.Invalid;
        if (!episode.World.IsObservable(action.Variable))
        {
            error = $"'{action.Variable}' is not a variable you can intervene on";
            return null;
        }
        if (allowed is { } set && VariableNames.IndexOf(set.AsSpan(), action.Variable) < 0)
        {
            error = action.Variable == episode.Target
                ? $"'{action.Variable}' is the target; choose another variable"
                : $"'{action.Variable}' is not one of the variables you may set now";
            return null;
        }
        if (!episode.Options.AllowedValues.AsSpan().Contains(action.Value))
        {
            error = $"value {action.Value} is not allowed (allowed: {string.Join(", ", episode.Options.AllowedValues)})";
            return null;
        }
        status = StepStatus.Valid;
        error = null;
        return action;
    }

    private static ImmutableArray<double> Observe(Episode episode, Intervention action, SeededRandom random)
    {
        var world = episode.World;
        Span<double> sample = stackalloc double[world.Count];
        world.Sample(random, world.IndexOf(action.Variable), action.Value, sample);
        var indices = episode.ObservableIndex;
        var shown = new double[indices.Length];
        for (var i = 0; i < shown.Length; i++)
        {
            shown[i] = RoundForDisplay(sample[indices[i]]);
        }
        return ImmutableCollectionsMarshal.AsImmutableArray(shown);
    }

    private static void DrawUnused(World world, SeededRandom random)
    {
        Span<double> sample = stackalloc double[world.Count];
        world.Sample(random, -1, 0, sample);
    }

    /// <summary>Every agent sees values rounded to 2 decimals, as text prompts show them.</summary>
    public static double RoundForDisplay(double value) => Math.Round(value, 2, MidpointRounding.AwayFromZero) + 0.0;
}
