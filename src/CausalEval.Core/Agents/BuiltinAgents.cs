using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Oracle;
using CausalEval.Core.Randomness;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Agents;

/// <summary>The reference agents of DESIGN §1.5 (model ids <c>builtin/…</c>).</summary>
public static class BuiltinAgents
{
    public const string Prefix = "builtin";

    /// <summary>Name → (what it does, factory).</summary>
    public static readonly ImmutableSortedDictionary<string, (string Description, AgentFactory Create)> All =
        new Dictionary<string, (string, AgentFactory)>
        {
            ["optimal"] = ("knows the world; explores every variable, then plays an optimal action (the upper bound); odd-one-out: knows the concept",
                Both("optimal", c => new OptimalAgent(c.Dag.Solution, c.Dag.ObservableEdges))),
            ["expert"] = ("intervenes on each allowed variable once, then exploits the effects it observed; odd-one-out: tests each dimension once, then picks what the outcomes show",
                Both("expert", _ => new ExpertAgent())),
            ["random"] = ("uniformly random allowed actions",
                Both("random", c => new RandomAgent(c.Seed))),
            ["correlational"] = ("explores like the expert, then regresses the target on each variable over all samples it saw (the sample regression), ignoring interventions",
                _ => CorrelationalAgent.Instance),
            ["associative"] = ("explores like the expert, then exploits by the true observational regression slope (exact covariance, hidden root included; privileged)",
                c => new AssociativeAgent(c.Dag.World)),
            ["bayes"] = ("the ideal observer: exact posterior over the task's world family, the most informative experiments, a Bayes exploit",
                BayesAgent.Create),
            ["training-support"] = ("optimal in the world without the held-out link: the best an agent knowing only the training structures can do",
                c => TrainingSupportAgent.Create(c.Dag)),
            ["shortcut"] = ("odd-one-out only: experiments like the expert, then picks the object unique along the most dimensions (the confounded strategy)",
                Both("shortcut", c => throw new NotSupportedException("builtin/shortcut plays odd-one-out tasks only"))),
        }.ToImmutableSortedDictionary(StringComparer.Ordinal);

    /// <summary>Whether built-in agent <paramref name="name"/> plays tasks of <paramref name="family"/>.</summary>
    public static bool Plays(string name, string family) => family == Tasks.TaskDefinition.OddOneOutFamily
        ? OddOneOut.OddOneOutAgents.Names.Contains(name)
        : name != "shortcut";

    /// <summary>A factory for an agent that plays odd-one-out episodes too: <paramref name="dag"/> for the causal-DAG ones.</summary>
    private static AgentFactory Both(string name, AgentFactory dag)
        => c => c.Episode is OddOneOut.OddOneOutEpisode puzzle ? OddOneOut.OddOneOutAgents.Create(name, puzzle, c) : dag(c);

    /// <summary>The expert's exploration: each explore variable in turn, cycling through the allowed values.</summary>
    internal static Intervention SystematicExperiment(EpisodeBrief brief, int step)
    {
        var variables = brief.ExploreVariables;
        var values = brief.AllowedValues;
        return new Intervention(variables[step % variables.Length], values[step / variables.Length % values.Length]);
    }

    /// <summary>
    /// The decision of <see cref="SystematicExperiment"/> at the view's step. Each brief's explore decisions are made
    /// once and shared by every trial of its episode (decisions are immutable): they were a fifth of a built-in agent's
    /// allocation per episode. Agents that live for one trial keep the brief's list in a <see cref="SystematicExploration"/>.
    /// </summary>
    internal static AgentDecision SystematicDecision(EpisodeView view) => Decision(SystematicPlan(view.Brief), view);

    /// <summary>The brief's explore decisions, step by step (made on first use).</summary>
    internal static AgentDecision[] SystematicPlan(EpisodeBrief brief) => SystematicPlans.GetValue(brief, static brief =>
        [.. Enumerable.Range(0, brief.ExploreSteps).Select(step => AgentDecision.Act(SystematicExperiment(brief, step)))]);

    internal static AgentDecision Decision(AgentDecision[] plan, EpisodeView view)
        => (uint)view.StepIndex < (uint)plan.Length ? plan[view.StepIndex] : AgentDecision.Act(SystematicExperiment(view.Brief, view.StepIndex));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<EpisodeBrief, AgentDecision[]> SystematicPlans = [];

    /// <summary>
    /// Best exploit action under estimated effects on the target (first wins ties): <paramref name="effect"/> of
    /// (<paramref name="state"/>, cause, effect) — a static lambda and its state, so no closure is made per decision.
    /// </summary>
    internal static Intervention BestAction<TState>(EpisodeView view, TState state, Func<TState, int, int, double> effect)
    {
        var brief = view.Brief;
        var target = brief.IndexOf(view.Target!);
        Intervention? best = null;
        var bestValue = double.NegativeInfinity;
        foreach (var variable in brief.ExploreVariables)
        {
            // By index: names are distinct, and comparing strings of one length reads their characters.
            var cause = brief.IndexOf(variable);
            if (cause == target)
            {
                continue;
            }
            var e = effect(state, cause, target);
            foreach (var value in brief.AllowedValues)
            {
                if (value * e > bestValue)
                {
                    bestValue = value * e;
                    best = new Intervention(variable, value);
                }
            }
        }
        return best ?? throw new InvalidOperationException("the episode offers no exploit action");
    }

}

/// <summary>An agent's hold on its brief's shared explore decisions: looked up once per brief, not at every step.</summary>
internal struct SystematicExploration
{
    private EpisodeBrief? _brief;
    private AgentDecision[]? _plan;

    public AgentDecision Decide(EpisodeView view)
    {
        if (_plan is null || !ReferenceEquals(_brief, view.Brief))
        {
            (_brief, _plan) = (view.Brief, BuiltinAgents.SystematicPlan(view.Brief));
        }
        return BuiltinAgents.Decision(_plan, view);
    }
}

internal sealed class ExpertAgent : IAgent
{
    private SystematicExploration _exploration;

    // The exploit and structure steps see the same evidence; estimate once.
    private EvidenceTable? _table;
    private int _tableHistory = -1;

    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        return view.Phase switch
        {
            Phase.Explore => new(_exploration.Decide(view)),
            Phase.Exploit => new(AgentDecision.Act(BuiltinAgents.BestAction(view, Table(view), static (t, cause, effect) => t.InterventionalEffect(cause, effect)))),
            _ => new(AgentDecision.Answer(Table(view).RecoverEdges(view.Brief.Variables))),
        };
    }

    private EvidenceTable Table(EpisodeView view)
    {
        var explored = 0;
        for (var s = 0; s < view.History.Count; s++)
        {
            explored += view.History[s].Phase == Phase.Explore ? 1 : 0;
        }
        if (_table is null || _tableHistory != explored)
        {
            _table = EvidenceTable.From(view);
            _tableHistory = explored;
        }
        return _table;
    }
}

internal sealed class CorrelationalAgent : IAgent
{
    public static readonly CorrelationalAgent Instance = new();

    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        return view.Phase switch
        {
            Phase.Explore => new(BuiltinAgents.SystematicDecision(view)),
            Phase.Exploit => new(AgentDecision.Act(BuiltinAgents.BestAction(view, EvidenceTable.From(view), Slope))),
            // Correlation has no direction: it claims an edge from every variable whose slope onto another is large.
            _ => new(AgentDecision.Answer(CorrelatedPairs(view.Brief.Variables, EvidenceTable.From(view), Slope))),
        };
    }

    private static readonly Func<EvidenceTable, int, int, double> Slope = static (t, cause, effect) => t.RegressionSlope(cause, effect);

    /// <summary>Every pair of variables whose <paramref name="slope"/> of (<paramref name="state"/>, one, other) is at least ½ in size, as an edge from the first.</summary>
    internal static ImmutableArray<DirectedLink> CorrelatedPairs<TState>(ImmutableArray<string> names, TState state, Func<TState, int, int, double> slope)
    {
        var edges = ImmutableArray.CreateBuilder<DirectedLink>();
        for (var i = 0; i < names.Length; i++)
        {
            for (var j = i + 1; j < names.Length; j++)
            {
                if (Math.Abs(slope(state, i, j)) >= 0.5)
                {
                    edges.Add(new DirectedLink(names[i], names[j]));
                }
            }
        }
        return edges.ToImmutable();
    }
}

internal sealed class RandomAgent(ulong seed) : IAgent
{
    private readonly SeededRandom _random = new(seed);

    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        var brief = view.Brief;
        switch (view.Phase)
        {
            case Phase.Explore:
                return new(AgentDecision.Act(new Intervention(Pick(brief.ExploreVariables), Pick(brief.AllowedValues))));
            case Phase.Exploit:
                var choices = brief.ExploitVariables(view.Target!).ToArray();
                return new(AgentDecision.Act(new Intervention(choices[_random.NextInt(choices.Length)], Pick(brief.AllowedValues))));
            default:
                // Each unordered pair: no edge, one way or the other, with equal chance.
                var edges = ImmutableArray.CreateBuilder<DirectedLink>();
                for (var i = 0; i < brief.Variables.Length; i++)
                {
                    for (var j = i + 1; j < brief.Variables.Length; j++)
                    {
                        switch (_random.NextInt(3))
                        {
                            case 1: edges.Add(new DirectedLink(brief.Variables[i], brief.Variables[j])); break;
                            case 2: edges.Add(new DirectedLink(brief.Variables[j], brief.Variables[i])); break;
                        }
                    }
                }
                return new(AgentDecision.Answer(edges.ToImmutable()));
        }
    }

    private T Pick<T>(ImmutableArray<T> items) => items[_random.NextInt(items.Length)];
}

/// <summary>Plays a known world perfectly: systematic exploration, an optimal exploit, the true graph.</summary>
internal sealed class OptimalAgent(Solution solution, ImmutableArray<DirectedLink> edges) : IAgent
{
    private SystematicExploration _exploration;

    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        return view.Phase switch
        {
            Phase.Explore => new(_exploration.Decide(view)),
            Phase.Exploit => new(AgentDecision.Act(solution.Optimal[0].Action)),
            _ => new(AgentDecision.Answer(edges)),
        };
    }
}

/// <summary>The optimal agent of the world with the held-out link removed (optimal itself when there is none).</summary>
internal static class TrainingSupportAgent
{
    public static IAgent Create(Episode episode)
    {
        if (episode.Options.HeldoutLink is not { } link || !episode.World.IsObservable(link.From) || episode.World.IndexOf(link.To) < 0)
        {
            return new OptimalAgent(episode.Solution, episode.ObservableEdges);
        }
        var supported = episode.World.WithoutEdge(link.From, link.To);
        var solution = ExploitOracle.Solve(supported, episode.Target, episode.ExploitVariables, episode.Options.AllowedValues);
        return new OptimalAgent(solution, episode.ObservableEdges.Remove(link));
    }
}
