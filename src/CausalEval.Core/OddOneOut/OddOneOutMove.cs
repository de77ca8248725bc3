using System.Collections.Immutable;

namespace CausalEval.Core.OddOneOut;

/// <summary>What an odd-one-out answer asks for: <c>transform(&lt;object&gt;, &lt;dimension&gt;)</c> or <c>pick(&lt;object&gt;)</c>.</summary>
public enum MoveKind
{
    Transform,
    Pick,
}

/// <summary>One odd-one-out action; <see cref="Dimension"/> is set for a transform only.</summary>
public readonly record struct OddOneOutMove(MoveKind Kind, string Object, Dimension? Dimension = null)
{
    public static OddOneOutMove TransformOf(string obj, Dimension dimension) => new(MoveKind.Transform, obj, dimension);

    public static OddOneOutMove PickOf(string obj) => new(MoveKind.Pick, obj);

    /// <summary>The answer line's form: <c>transform(B, shape)</c>, <c>pick(C)</c>.</summary>
    public override string ToString() => Kind == MoveKind.Transform ? $"transform({Object}, {Dimension?.Name()})" : $"pick({Object})";
}

/// <summary>Which answer a step of an odd-one-out trial asks for.</summary>
public enum TrialStage
{
    Transform,
    Pick,
}

/// <summary>
/// What an agent sees of the odd-one-out trial it is in: the trial's number (experiments first, the exploit trial last),
/// which answer is asked, and the objects as they are now (after this trial's transform, at a pick).
/// </summary>
public sealed record OddOneOutView(int Trial, bool Exploit, TrialStage Stage, ImmutableArray<OddObject> Objects);

/// <summary>What a step did to the trial: the objects after it, and for a valid pick whether it was correct.</summary>
public sealed record OddOneOutOutcome(ImmutableArray<OddObject> Objects, bool? Correct);
