using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tasks;

/// <summary>
/// A task is data (DESIGN §1.4): generator family and parameters, split rules, episode options and a version
/// that changes whenever its episodes change. Stored as <c>datasets/&lt;id&gt;/task.json</c>.
/// </summary>
public sealed record TaskDefinition
{
    public const string ExploreExploitFamily = "explore-exploit";
    public const string PassiveExploitFamily = "passive-exploit";
    public const string OddOneOutFamily = "odd-one-out";

    /// <summary>The causal-DAG families (worlds, interventions, a target); the others are <see cref="OddOneOutFamily"/>.</summary>
    public static bool IsDagFamily(string family) => family is ExploreExploitFamily or PassiveExploitFamily;

    public required string Id { get; init; }
    public required int Version { get; init; }
    public required string Family { get; init; }
    public string Description { get; init; } = "";
    /// <summary>The world generator (causal-DAG families; an odd-one-out task keeps the default, unused).</summary>
    public SignedDagOptions Generator { get; init; } = new();

    /// <summary>The odd-one-out rules (odd-one-out family only).</summary>
    public OddOneOut.OddOneOutRule? OddOneOut { get; init; }

    /// <summary>Options copied into every episode (subset, held-out link and evidence are drawn per episode).</summary>
    public EpisodeOptions Episode { get; init; } = new();

    /// <summary>Passive evidence drawn for each episode (passive-exploit tasks only).</summary>
    public EvidenceRule? Evidence { get; init; }

    /// <summary>A link absent from every train world and present, mattering, in every test world.</summary>
    public DirectedLink? HeldoutLink { get; init; }

    /// <summary>Cued exploration subsets; the test subsets never appear in train.</summary>
    public SubsetRule? Subsets { get; init; }

    public required SplitRule Train { get; init; }
    public required SplitRule Test { get; init; }

    /// <summary>Episodes drawn by the test split's rules (held-out link present, held-out subsets) from another seed, never a test episode; null when task.json has none.</summary>
    public SplitRule? Validation { get; init; }

    public const string TrainSplit = "train";
    public const string ValidationSplit = "validation";
    public const string TestSplit = "test";

    /// <summary>The splits <c>run --split</c> can score: both are committed files.</summary>
    public static readonly IReadOnlyList<string> CommittedSplits = [TestSplit, ValidationSplit];

    public SplitRule Split(string split) => split switch
    {
        TrainSplit => Train,
        TestSplit => Test,
        ValidationSplit => Validation ?? throw new InputException($"task {Id}", "splits.validation", "this task defines no validation split"),
        _ => throw new ArgumentException($"unknown split '{split}' (expected train, validation or test)", nameof(split)),
    };

    /// <summary>Validation and test follow the held-out rules (the link present and mattering, the held-out subsets); train the opposite.</summary>
    public static bool IsHeldOut(string split) => split is TestSplit or ValidationSplit;
}

/// <param name="Condition">One of <see cref="PassiveEvidence.Conditions"/>.</param>
/// <param name="Samples">Samples to show; null means one per observable variable (the expert's K experiments).</param>
public sealed record EvidenceRule(string Condition, int? Samples);

/// <param name="Size">Variables in each cued subset.</param>
/// <param name="Test">The subsets reserved for the test split; train uses every other subset of that size.</param>
public sealed record SubsetRule(int Size, ImmutableArray<ImmutableArray<string>> Test);

/// <param name="Seed">Seed of the split; episode i gets a seed derived from it.</param>
/// <param name="Episodes">How many episodes the committed file holds (test) or a default count (train).</param>
public sealed record SplitRule(ulong Seed, int Episodes);
