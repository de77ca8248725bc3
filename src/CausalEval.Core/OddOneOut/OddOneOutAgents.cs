using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Randomness;

namespace CausalEval.Core.OddOneOut;

/// <summary>The reference agents playing odd-one-out (model ids <c>builtin/optimal</c>, <c>expert</c>, <c>random</c>, <c>shortcut</c>).</summary>
internal static class OddOneOutAgents
{
    /// <summary>The built-in agents that play this family, by name.</summary>
    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal) { "optimal", "expert", "random", "shortcut" };

    public static IAgent Create(string name, OddOneOutEpisode episode, TrialContext context) => name switch
    {
        "optimal" => new OptimalOddAgent(episode.Concept),
        "expert" => new ExpertOddAgent(),
        "random" => new RandomOddAgent(context.Seed),
        "shortcut" => new ShortcutOddAgent(context.Seed),
        _ => throw new NotSupportedException($"builtin/{name} does not play odd-one-out tasks"),
    };

    /// <summary>The view of the trial; an odd-one-out agent is only ever asked inside one.</summary>
    internal static OddOneOutView Trial(EpisodeView view)
        => view.OddOneOut ?? throw new InvalidOperationException("an odd-one-out agent was asked about a causal-DAG step");

    /// <summary>The systematic experiment: trial t transforms the first object along dimension t (cycling), so each dimension is tested once.</summary>
    internal static OddOneOutMove Systematic(OddOneOutView trial)
        => OddOneOutMove.TransformOf(trial.Objects[0].Name, Dimensions.All[trial.Trial % Dimensions.All.Length]);

    /// <summary>The experiment's pick: the object this trial's transform made different (the only one that can be right).</summary>
    internal static OddOneOutMove PickChanged(EpisodeView view, OddOneOutView trial)
    {
        var transform = view.History.Count > 0 ? view.History[^1] : null;
        return OddOneOutMove.PickOf(transform is { Status: StepStatus.Valid, Decision.Move: { } move } ? move.Object : trial.Objects[0].Name);
    }
}

/// <summary>Knows the concept: makes the odd one out along it, picks it, and picks the object unique along it.</summary>
internal sealed class OptimalOddAgent(Dimension concept) : IAgent
{
    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        var trial = OddOneOutAgents.Trial(view);
        if (trial.Stage == TrialStage.Transform)
        {
            return new(AgentDecision.Act(OddOneOutMove.TransformOf(trial.Objects[0].Name, concept)));
        }
        if (!trial.Exploit)
        {
            return new(AgentDecision.Act(OddOneOutAgents.PickChanged(view, trial)));
        }
        var index = Enumerable.Range(0, trial.Objects.Length).First(i => OddObject.IsUnique(trial.Objects, i, concept));
        return new(AgentDecision.Act(OddOneOutMove.PickOf(trial.Objects[index].Name)));
    }
}

/// <summary>
/// The strategy the passive data shows: each experiment tests a new dimension (colour, texture, shape in turn) by
/// transforming an object along it and picking that object; the exploit picks the object the outcomes point to (a Bayes pick).
/// </summary>
internal sealed class ExpertOddAgent : IAgent
{
    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        var trial = OddOneOutAgents.Trial(view);
        if (trial.Stage == TrialStage.Transform)
        {
            return new(AgentDecision.Act(OddOneOutAgents.Systematic(trial)));
        }
        if (!trial.Exploit)
        {
            return new(AgentDecision.Act(OddOneOutAgents.PickChanged(view, trial)));
        }
        var best = ConceptPosterior.After(view.History).BayesPicks(trial.Objects)[0];
        return new(AgentDecision.Act(OddOneOutMove.PickOf(trial.Objects[best].Name)));
    }
}

/// <summary>Uniformly random transforms and picks.</summary>
internal sealed class RandomOddAgent(ulong seed) : IAgent
{
    private readonly SeededRandom _random = new(seed);

    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        var trial = OddOneOutAgents.Trial(view);
        var obj = trial.Objects[_random.NextInt(trial.Objects.Length)].Name;
        return new(AgentDecision.Act(trial.Stage == TrialStage.Transform
            ? OddOneOutMove.TransformOf(obj, Dimensions.All[_random.NextInt(Dimensions.All.Length)])
            : OddOneOutMove.PickOf(obj)));
    }
}

/// <summary>
/// The confounded strategy: experiments like the expert's, but every pick goes to the object unique along the most
/// dimensions (ties broken at random), whatever the outcomes said — right whenever one object is odd along every dimension.
/// </summary>
internal sealed class ShortcutOddAgent(ulong seed) : IAgent
{
    private readonly SeededRandom _random = new(seed);

    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        var trial = OddOneOutAgents.Trial(view);
        if (trial.Stage == TrialStage.Transform)
        {
            return new(AgentDecision.Act(OddOneOutAgents.Systematic(trial)));
        }
        var counts = Enumerable.Range(0, trial.Objects.Length).Select(i => OddObject.UniqueDimensions(trial.Objects, i)).ToArray();
        var most = counts.Max();
        var tied = Enumerable.Range(0, counts.Length).Where(i => counts[i] == most).ToArray();
        return new(AgentDecision.Act(OddOneOutMove.PickOf(trial.Objects[tied[_random.NextInt(tied.Length)]].Name)));
    }
}
