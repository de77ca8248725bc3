using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;

namespace CausalEval.Baseline;

/// <summary>
/// The token layout of an odd-one-out checkpoint: how many experiment trials its position and trial tables cover.
/// Four objects, three dimensions; an action class is object × slot, the slots being transform along colour, texture,
/// shape, and pick.
/// </summary>
internal sealed record OddEncoderShape(int MaxExperiments)
{
    public static readonly OddEncoderShape Default = new(7);

    public const int Objects = 4;
    public const int Slots = 4;
    public const int PickSlot = 3;

    /// <summary>Action classes: object × slot.</summary>
    public static int Classes => Objects * Slots;

    /// <summary>A transform and a pick per experiment trial, then the exploit pick.</summary>
    public int MaxTokens => 2 * MaxExperiments + 1;

    // Feature layout of one token (see OddEncoder).
    public const int PreviousKind = 0;            // transform, pick
    public const int PreviousObject = 2;          // object one-hot
    public const int PreviousDimension = 6;       // the transform's dimension one-hot
    public const int PreviousOutcome = 9;         // correct, incorrect, failed (invalid or unreadable)
    public const int Stage = 12;                  // transform, experiment pick, exploit pick
    public const int Trial = 15;                  // trial number one-hot (experiments, then the exploit trial)
    public int Unique => Trial + MaxExperiments + 1; // per object, per dimension: unique along it (pick stages only)
    public int Features => Unique + Objects * Dimensions.All.Length;

    public static int ClassOf(int obj, int slot) => obj * Slots + slot;

    public static (int Object, int Slot) Decode(int actionClass) => (actionClass / Slots, actionClass % Slots);
}

/// <summary>What a token of an odd-one-out sequence says about its own decision: which answer is asked, in which trial, over which objects.</summary>
internal readonly record struct OddDecision(TrialStage Stage, bool Exploit, int Trial, ImmutableArray<OddObject> Objects);

/// <summary>
/// Turns what an agent may see of an odd-one-out episode into one token per decision. Token j describes the outcome of
/// step j − 1 (none for token 0) and the decision asked at j:
/// <list type="bullet">
/// <item>the previous action: transform or pick, its object one-hot, the transform's dimension one-hot;</item>
/// <item>the previous outcome: correct, incorrect, or failed (an invalid or unreadable answer); a transform has none;</item>
/// <item>the decision: stage (transform, experiment pick, exploit pick) and trial number, one-hot;</item>
/// <item>at a pick, for each object and dimension whether the object is unique along it (the relation the concept is
/// about; the attribute values themselves are not shown). At a transform the objects are not encoded: a past transform
/// step records the objects after it, not those it was asked about, and every token must read the same when it is
/// current as when it is past.</item>
/// </list>
/// Trial and stage come from the step's position (a transform and a pick per experiment trial, each using up its step),
/// so the tokens of earlier decisions never depend on later ones: one encoding of a transcript trains every decision.
/// </summary>
internal static class OddEncoder
{
    /// <summary>The decisions of a history's steps, then <paramref name="current"/>.</summary>
    public static List<OddDecision> Decisions(IReadOnlyList<StepRecord> history, OddOneOutView? current)
    {
        var decisions = new List<OddDecision>(history.Count + 1);
        for (var j = 0; j < history.Count; j++)
        {
            var step = history[j];
            var exploit = step.Phase == Phase.Exploit;
            var stage = exploit || j % 2 == 1 ? TrialStage.Pick : TrialStage.Transform;
            decisions.Add(new OddDecision(stage, exploit, j / 2, stage == TrialStage.Pick && step.Outcome is { } o ? o.Objects : default));
        }
        if (current is not null)
        {
            decisions.Add(new OddDecision(current.Stage, current.Exploit, current.Trial, current.Stage == TrialStage.Pick ? current.Objects : default));
        }
        return decisions;
    }

    /// <summary>Why this shape cannot play a sequence of <paramref name="tokens"/> decisions, or null when it can.</summary>
    public static string? Unsupported(OddEncoderShape shape, int tokens, int objects)
    {
        if (objects != OddEncoderShape.Objects)
        {
            return $"the trial has {objects} objects; this checkpoint reads {OddEncoderShape.Objects}";
        }
        return tokens > shape.MaxTokens
            ? $"the episode needs {tokens} steps of context; this checkpoint supports at most {shape.MaxTokens} ({shape.MaxExperiments} experiment trials)"
            : null;
    }

    /// <summary>Encodes one token per decision (row-major, <see cref="OddEncoderShape.Features"/> each) into <paramref name="destination"/>.</summary>
    public static void Encode(OddEncoderShape shape, IReadOnlyList<StepRecord> history, IReadOnlyList<OddDecision> decisions, Span<float> destination)
    {
        var features = shape.Features;
        destination[..(decisions.Count * features)].Clear();
        for (var j = 0; j < decisions.Count; j++)
        {
            var row = destination.Slice(j * features, features);
            if (j > 0)
            {
                var step = history[j - 1];
                var shown = decisions[j - 1].Objects.IsDefault ? step.Outcome?.Objects ?? default : decisions[j - 1].Objects;
                if (step.Decision.Move is { } move)
                {
                    row[OddEncoderShape.PreviousKind + (move.Kind == MoveKind.Transform ? 0 : 1)] = 1;
                    var index = Index(OddOneOutEpisode.ObjectNames, shown, move.Object);
                    if (index >= 0)
                    {
                        row[OddEncoderShape.PreviousObject + index] = 1;
                    }
                    if (move.Dimension is { } d)
                    {
                        row[OddEncoderShape.PreviousDimension + (int)d] = 1;
                    }
                }
                if (step.Status != StepStatus.Valid)
                {
                    row[OddEncoderShape.PreviousOutcome + 2] = 1;
                }
                else if (step.Outcome?.Correct is { } correct)
                {
                    row[OddEncoderShape.PreviousOutcome + (correct ? 0 : 1)] = 1;
                }
            }
            var decision = decisions[j];
            row[OddEncoderShape.Stage + (decision.Exploit ? 2 : decision.Stage == TrialStage.Pick ? 1 : 0)] = 1;
            row[OddEncoderShape.Trial + Math.Min(decision.Trial, shape.MaxExperiments)] = 1;
            if (!decision.Objects.IsDefault)
            {
                for (var o = 0; o < decision.Objects.Length && o < OddEncoderShape.Objects; o++)
                {
                    foreach (var d in Dimensions.All)
                    {
                        if (OddObject.IsUnique(decision.Objects, o, d))
                        {
                            row[shape.Unique + o * Dimensions.All.Length + (int)d] = 1;
                        }
                    }
                }
            }
        }
    }

    /// <summary>The position of an object by name among the shown objects (naming schemes rename them), else among the default names.</summary>
    private static int Index(ImmutableArray<string> names, ImmutableArray<OddObject> shown, string name)
        => !shown.IsDefault && OddObject.IndexOf(shown, name) is >= 0 and var i ? i : names.IndexOf(name);
}
