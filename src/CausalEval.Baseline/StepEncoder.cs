using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;

namespace CausalEval.Baseline;

/// <summary>
/// The shape a checkpoint was built for: how many variable slots and value slots its inputs and outputs have,
/// and the longest sequence its position table covers. An episode beyond these cannot be played by it.
/// </summary>
internal sealed record EncoderShape(int MaxVariables, int MaxValues, int MaxTokens)
{
    public static readonly EncoderShape Default = new(8, 2, 32);

    /// <summary>Action classes: variable slot × value slot.</summary>
    public int Classes => MaxVariables * MaxValues;

    // Feature layout of one token (see StepEncoder).
    public int ActionVariable => 0;
    public int ActionValue => MaxVariables;
    public int HasAction => ActionValue + 1;
    public int Observed => HasAction + 1;
    public int Effect => Observed + MaxVariables;
    public int HasObservation => Effect + MaxVariables;
    public int PhaseOffset => HasObservation + 1;
    public int Goal => PhaseOffset + 3;
    public int Cued => Goal + MaxVariables;
    public int Exists => Cued + MaxVariables;
    public int ValueSlots => Exists + MaxVariables;
    public int Features => ValueSlots + MaxValues;

    public int ClassOf(int variable, int valueSlot) => variable * MaxValues + valueSlot;

    public (int Variable, int ValueSlot) Decode(int actionClass) => (actionClass / MaxValues, actionClass % MaxValues);
}

/// <summary>One past sample the agent knows of: who was set to what (or nothing), and what was seen (or nothing).</summary>
internal readonly record struct PastStep(Phase DecisionPhase, Intervention? Action, ImmutableArray<double> Observation);

/// <summary>
/// Turns what an agent may see of an episode into one token per decision. Token j describes the outcome of the
/// j-th past sample (none for token 0) and the decision to be made at j:
/// <list type="bullet">
/// <item>the action taken: variable one-hot, value ÷ scale, a has-action flag (passive observations have none);</item>
/// <item>the observed values ÷ scale, the same values ÷ the intervention value (what the experiment shows about
/// each variable's response per unit; for a passive observation, its values ÷ the RMS of all observed values), and a
/// has-observation flag (invalid and exploit steps have none);</item>
/// <item>the phase of the decision at this token (explore, exploit, structure);</item>
/// <item>the goal cue: the target one-hot once the goal is known (from the exploit step on, or from the start
/// when the episode reveals it first);</item>
/// <item>the cued mask (the variables exploration is cued to: the subset, or every observable variable), the mask of
/// variables that exist, and the allowed values ÷ scale (which value each output slot stands for).</item>
/// </list>
/// The scale is the largest allowed |value| (5 here). Passive evidence samples come first, as past explore steps
/// the agent did not choose. A causal model reads token j only with tokens ≤ j, so the tokens of earlier decisions
/// are identical whatever comes later: one encoding of a whole trajectory trains every decision of it.
/// </summary>
internal static class StepEncoder
{
    /// <summary>The past samples of a view: its passive evidence, then its own steps.</summary>
    public static List<PastStep> PastSteps(EpisodeView view)
    {
        var past = new List<PastStep>((view.Brief.Evidence?.Samples.Length ?? 0) + view.History.Count);
        if (view.Brief.Evidence is { } evidence)
        {
            foreach (var sample in evidence.Samples)
            {
                past.Add(new PastStep(Phase.Explore, sample.Intervention, sample.Values));
            }
        }
        foreach (var step in view.History)
        {
            past.Add(new PastStep(step.Phase, step.Action, step.Observation));
        }
        return past;
    }

    /// <summary>
    /// The root-mean-square of every value of the past samples observed without an intervention (0 when there are
    /// none). Passive evidence comes whole before the first decision, so every token of a view sees the same scale.
    /// </summary>
    private static double ObservationalScale(IReadOnlyList<PastStep> past)
    {
        double sum = 0;
        var count = 0;
        foreach (var step in past)
        {
            if (step.Action is null && !step.Observation.IsDefault)
            {
                foreach (var value in step.Observation)
                {
                    sum += value * value;
                    count++;
                }
            }
        }
        return count > 0 ? Math.Sqrt(sum / count) : 0;
    }

    /// <summary>Why this shape cannot play the episode, or null when it can.</summary>
    public static string? Unsupported(EncoderShape shape, EpisodeBrief brief, int tokens)
    {
        if (brief.Variables.Length > shape.MaxVariables)
        {
            return $"the episode has {brief.Variables.Length} observable variables; this checkpoint supports at most {shape.MaxVariables}";
        }
        if (brief.AllowedValues.Length > shape.MaxValues)
        {
            return $"the episode allows {brief.AllowedValues.Length} values; this checkpoint supports at most {shape.MaxValues}";
        }
        if (tokens > shape.MaxTokens)
        {
            return $"the episode needs {tokens} steps of context; this checkpoint supports at most {shape.MaxTokens}";
        }
        return null;
    }

    /// <summary>
    /// Encodes tokens 0..past.Count into <paramref name="destination"/> (row-major, <see cref="EncoderShape.Features"/>
    /// per token); the last token carries <paramref name="currentPhase"/>.
    /// </summary>
    public static void Encode(EncoderShape shape, EpisodeBrief brief, string? target, IReadOnlyList<PastStep> past, Phase currentPhase,
        Span<float> destination)
    {
        var tokens = past.Count + 1;
        var features = shape.Features;
        destination[..(tokens * features)].Clear();
        var scale = brief.AllowedValues.Max(Math.Abs);
        var observational = ObservationalScale(past);
        var targetIndex = target is null ? -1 : brief.IndexOf(target);
        for (var j = 0; j < tokens; j++)
        {
            var row = destination.Slice(j * features, features);
            if (j > 0)
            {
                var step = past[j - 1];
                if (step.Action is { } action && brief.IndexOf(action.Variable) is >= 0 and var acted)
                {
                    row[shape.ActionVariable + acted] = 1;
                    row[shape.ActionValue] = (float)(action.Value / scale);
                    row[shape.HasAction] = 1;
                }
                if (!step.Observation.IsDefault)
                {
                    row[shape.HasObservation] = 1;
                    // An experiment shows its effect per unit of intervention; a passive observation has no unit, so its
                    // values are shown standardised instead (÷ their RMS over the view's observations): noise-sized values
                    // ÷ 5 would be too small for the network to read.
                    var perUnit = step.Action is { Value: not 0 } a ? scale / a.Value : step.Action is null && observational > 0 ? scale / observational : 0;
                    for (var v = 0; v < step.Observation.Length; v++)
                    {
                        row[shape.Observed + v] = (float)(step.Observation[v] / scale);
                        row[shape.Effect + v] = (float)(step.Observation[v] / scale * perUnit);
                    }
                }
            }
            var phase = j < past.Count ? past[j].DecisionPhase : currentPhase;
            row[shape.PhaseOffset + (int)phase] = 1;
            if (targetIndex >= 0 && (brief.GoalFirst || phase != Phase.Explore))
            {
                row[shape.Goal + targetIndex] = 1;
            }
            foreach (var cued in brief.ExploreVariables)
            {
                row[shape.Cued + brief.IndexOf(cued)] = 1;
            }
            for (var v = 0; v < brief.Variables.Length; v++)
            {
                row[shape.Exists + v] = 1;
            }
            for (var s = 0; s < brief.AllowedValues.Length; s++)
            {
                row[shape.ValueSlots + s] = (float)(brief.AllowedValues[s] / scale);
            }
        }
    }
}
