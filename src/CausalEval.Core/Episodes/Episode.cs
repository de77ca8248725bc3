using System.Collections.Immutable;
using CausalEval.Core.Oracle;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Episodes;

/// <summary>One sample of passive evidence: the values of the observable variables, under an intervention or none.</summary>
public sealed record EvidenceSample(Intervention? Intervention, ImmutableArray<double> Values);

/// <summary>Passive evidence shown before a single-turn exploit question (DESIGN §1.4).</summary>
public sealed record PassiveEvidence(string Condition, ImmutableArray<EvidenceSample> Samples)
{
    public const string InterventionalExpert = "interventional-expert";
    public const string InterventionalRandom = "interventional-random";
    public const string Observational = "observational";

    public static readonly ImmutableArray<string> Conditions = [InterventionalExpert, InterventionalRandom, Observational];
}

/// <summary>
/// One episode of any task family, as runs, trial lines and reports know it: its id within its split and its seed. The
/// family's own type holds the rest (<see cref="Episode"/> for the causal-DAG families, <c>OddOneOutEpisode</c> for odd-one-out).
/// </summary>
public abstract class TaskEpisode(string id, ulong seed)
{
    public string Id { get; } = id;

    /// <summary>The episode's own seed (from the dataset); runs derive environment noise from it.</summary>
    public ulong Seed { get; } = seed;
}

/// <summary>
/// One episode of a causal-DAG dataset: the world, the goal, and the options of the explore → exploit protocol.
/// Immutable; construction validates it and solves the exploit problem exactly.
/// </summary>
public sealed class Episode : TaskEpisode
{
    public Episode(string id, World world, string target, ulong seed, EpisodeOptions options)
        : base(id, seed)
    {
        World = world;
        Options = options;
        if (!world.IsObservable(target))
        {
            throw new ArgumentException($"target '{target}' is not an observable variable of the world", nameof(target));
        }
        // The world's own string for the name: agents and scorers compare names with it, and find an instance first.
        Target = world.Variables[world.IndexOf(target)];
        ExploreVariables = options.Subset.IsDefault ? world.Observable : options.Subset;
        ExploitVariables = [.. ExploreVariables.Where(v => v != target)];
        Solution = ExploitOracle.Solve(world, target, ExploitVariables, options.AllowedValues);
        ObservableIndex = [.. world.Observable.Select(world.IndexOf)];
        // The variable list's own strings (equal to the edge's): the structure scorer finds a name by reference first.
        ObservableEdges = [.. world.Edges
            .Where(e => world.IsObservable(e.From) && world.IsObservable(e.To))
            .Select(e => new DirectedLink(world.Variables[world.IndexOf(e.From)], world.Variables[world.IndexOf(e.To)]))];
        var adjacency = new ulong[AdjacencyBits.Words(world.Observable.Length)];
        AdjacencyBits.TryFill(world.Observable.AsSpan(), ObservableEdges.AsSpan(), adjacency); // true: the edges join observable variables
        ObservableAdjacency = System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(adjacency);
        Brief = EpisodeBrief.From(this);
    }

    /// <summary><see cref="ObservableEdges"/> as <see cref="AdjacencyBits"/> over the observable variables (the structure score's truth, made once).</summary>
    internal ImmutableArray<ulong> ObservableAdjacency { get; }

    /// <summary>The true direct edges between observable variables (what the structure question asks for).</summary>
    public ImmutableArray<DirectedLink> ObservableEdges { get; }

    /// <summary>What an agent may see of this episode.</summary>
    public EpisodeBrief Brief { get; }

    public World World { get; }
    public string Target { get; }

    public EpisodeOptions Options { get; }

    /// <summary>Variables exploration is cued to: the subset when there is one, else every observable variable.</summary>
    public ImmutableArray<string> ExploreVariables { get; }

    /// <summary>Variables the goal lets the agent set: the explore variables without the target.</summary>
    public ImmutableArray<string> ExploitVariables { get; }

    public Solution Solution { get; }

    /// <summary>World index of each observable variable, in observation order.</summary>
    internal ImmutableArray<int> ObservableIndex { get; }

    public int ExploreSteps => Options.ExploreSteps ?? (Options.Evidence is null ? World.Observable.Length : 0);
}

/// <summary>How an episode is played. Every field is part of the dataset line.</summary>
public sealed record EpisodeOptions
{
    public static readonly ImmutableArray<double> DefaultAllowedValues = [5, -5];

    /// <summary>Cued subset of observable variables (default: none).</summary>
    public ImmutableArray<string> Subset { get; init; }

    /// <summary>The held-out link whose effect this episode tests, if any.</summary>
    public DirectedLink? HeldoutLink { get; init; }

    /// <summary>Explore steps; null means the number of observable variables (0 for passive episodes).</summary>
    public int? ExploreSteps { get; init; }

    /// <summary>Reveal the goal before exploration instead of after.</summary>
    public bool GoalFirst { get; init; }

    /// <summary>Ask for the direct edges after the exploit step.</summary>
    public bool AskStructure { get; init; }

    public ImmutableArray<double> AllowedValues { get; init; } = DefaultAllowedValues;

    /// <summary>Passive evidence; an episode with evidence is single-turn (passive-exploit).</summary>
    public PassiveEvidence? Evidence { get; init; }
}
