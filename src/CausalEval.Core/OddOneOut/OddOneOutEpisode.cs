using System.Collections.Immutable;
using CausalEval.Core.Episodes;

namespace CausalEval.Core.OddOneOut;

/// <summary>
/// One experiment trial ("make an odd one out", the easy level of DESIGN §1.7): four identical objects and, for each
/// dimension, the palette value an object takes when it is transformed along that dimension (never the objects' own).
/// </summary>
public sealed record ExperimentTrial(ImmutableArray<OddObject> Objects, ImmutableArray<string> Transforms)
{
    /// <summary>The value a transform along <paramref name="dimension"/> gives.</summary>
    public string TransformValue(Dimension dimension) => Transforms[(int)dimension];
}

/// <summary>
/// One odd-one-out episode: the hidden concept, the experiment trials, then the exploit trial's objects ("find the odd
/// one out"). Deconfounded exploit: three objects each unique along a different dimension, one unique along none.
/// Confounded: one object unique along every dimension, the other three identical.
/// </summary>
public sealed class OddOneOutEpisode : TaskEpisode
{
    /// <summary>Object names within a trial.</summary>
    public static readonly ImmutableArray<string> ObjectNames = ["A", "B", "C", "D"];

    public OddOneOutEpisode(string id, ulong seed, Dimension concept, ImmutableArray<ExperimentTrial> experiments, ImmutableArray<OddObject> exploitObjects)
        : base(id, seed)
    {
        if (experiments.IsDefaultOrEmpty || exploitObjects.Length != ObjectNames.Length)
        {
            throw new ArgumentException("an odd-one-out episode has at least one experiment trial and four exploit objects");
        }
        Concept = concept;
        Experiments = experiments;
        ExploitObjects = exploitObjects;
        Confounded = Enumerable.Range(0, exploitObjects.Length).Any(i => OddObject.UniqueDimensions(exploitObjects, i) == Dimensions.All.Length);
        var correct = Enumerable.Range(0, exploitObjects.Length).Where(i => OddObject.IsUnique(exploitObjects, i, concept)).ToArray();
        if (correct.Length != 1)
        {
            throw new ArgumentException($"exactly one exploit object must be unique along the concept ({concept.Name()}), found {correct.Length}");
        }
        Answer = exploitObjects[correct[0]].Name;
        Brief = new EpisodeBrief(id, ObjectNames, [], default, [], experiments.Length * 2, false, false, null);
    }

    public Dimension Concept { get; }

    public ImmutableArray<ExperimentTrial> Experiments { get; }

    public ImmutableArray<OddObject> ExploitObjects { get; }

    /// <summary>True when one exploit object is unique along every dimension (the shortcut works).</summary>
    public bool Confounded { get; }

    /// <summary>The exploit object that is unique along the concept (the one right answer).</summary>
    public string Answer { get; }

    /// <summary>What an agent may see that holds for the whole episode: its id and the object names (what naming schemes map).</summary>
    public EpisodeBrief Brief { get; }

    /// <summary>Decisions per episode: a transform and a pick per experiment trial, then the exploit pick.</summary>
    public int Steps => Experiments.Length * 2 + 1;
}
