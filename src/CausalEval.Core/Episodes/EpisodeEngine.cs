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
    public static async ValueTask<EpisodeTranscript> RunAsync(
        Episode episode, IAgent agent, ulong environmentSeed, CancellationToken cancellationToken = default)
    {
        var brief = episode.Brief;
        var random = new SeededRandom(environmentSeed);
        var history = new StepHistory(episode.ExploreSteps + 1 + (episode.Options.AskStructure ? 1 : 0));
        var visibleHistory = history;
        var goal = episode.Options.GoalFirst ? episode.Target : null;
        for (var step = 0; step < episode.ExploreSteps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var view = new EpisodeView(brief, Phase.Explore, step, goal, visibleHistory);
            var activity = Running.RunTelemetry.StartStep(view);
            var decision = await DecideAsync(agent, view, activity, cancellationToken).ConfigureAwait(false);
            history.Add(Explore(episode, step, decision, random));
            Running.RunTelemetry.EndStep(activity, history[^1]);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var exploitView = new EpisodeView(brief, Phase.Exploit, history.Count, episode.Target, visibleHistory);
        var exploitActivity = Running.RunTelemetry.StartStep(exploitView);
        var exploit = await DecideAsync(agent, exploitView, exploitActivity, cancellationToken).ConfigureAwait(false);
        history.Add(Exploit(episode, history.Count, exploit));
        Running.RunTelemetry.EndStep(exploitActivity, history[^1]);

        if (episode.Options.AskStructure)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var structureView = new EpisodeView(brief, Phase.Structure, history.Count, episode.Target, visibleHistory);
            var structureActivity = Running.RunTelemetry.StartStep(structureView);
            var structure = await DecideAsync(agent, structureView, structureActivity, cancellationToken).ConfigureAwait(false);
            history.Add(Structure(episode, history.Count, structure));
            Running.RunTelemetry.EndStep(structureActivity, history[^1]);
        }
        return new EpisodeTranscript(history.ToImmutable());
    }

    /// <summary>
    /// The steps so far, in an array of the episode's length: agents see the live list read-only, and the full array
    /// becomes the transcript without a copy (nothing writes to it after the last step).
    /// </summary>
    private sealed class StepHistory(int length) : IReadOnlyList<StepRecord>
    {
        private readonly StepRecord[] _steps = new StepRecord[length];

        public int Count { get; private set; }

        public StepRecord this[int index] => (uint)index < (uint)Count ? _steps[index] : throw new ArgumentOutOfRangeException(nameof(index));

        public void Add(StepRecord step) => _steps[Count++] = step;

        public ImmutableArray<StepRecord> ToImmutable()
            => Count == _steps.Length ? ImmutableCollectionsMarshal.AsImmutableArray(_steps) : [.. _steps.AsSpan(0, Count)];

        public IEnumerator<StepRecord> GetEnumerator() => ((IEnumerable<StepRecord>)new ArraySegment<StepRecord>(_steps, 0, Count)).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>The agent's decision; a step span (when traced) ends with the error if the agent fails.</summary>
    private static async ValueTask<AgentDecision> DecideAsync(IAgent agent, EpisodeView view, System.Diagnostics.Activity? activity,
        CancellationToken cancellationToken)
    {
        if (activity is null)
        {
            return await agent.DecideAsync(view, cancellationToken).ConfigureAwait(false);
        }
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
        foreach (var edge in edges)
        {
            if (!episode.World.IsObservable(edge.From) || !episode.World.IsObservable(edge.To))
            {
                return new StepRecord(index, Phase.Structure, decision, StepStatus.Invalid,
                    $"edge {edge} names an unknown variable", default);
            }
            if (edge.From == edge.To)
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
        if (allowed is { } set && !set.Contains(action.Variable))
        {
            error = action.Variable == episode.Target
                ? $"'{action.Variable}' is the target; choose another variable"
                : $"'{action.Variable}' is not one of the variables you may set now";
            return null;
        }
        if (!episode.Options.AllowedValues.Contains(action.Value))
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
