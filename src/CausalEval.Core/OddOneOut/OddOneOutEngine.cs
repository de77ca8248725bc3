using System.Collections.Immutable;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;

namespace CausalEval.Core.OddOneOut;

/// <summary>
/// Plays an odd-one-out episode (DESIGN §1.7): each experiment trial asks for a transform, then a pick answered correct or
/// incorrect; the exploit trial asks for a pick only. An invalid or unreadable answer is recorded, shown to the agent as
/// such, and uses up its step (a failed transform leaves the objects as they were; a failed pick is neither correct nor
/// incorrect and scores as a miss).
/// </summary>
public static class OddOneOutEngine
{
    public static async ValueTask<EpisodeTranscript> RunAsync(OddOneOutEpisode episode, IAgent agent, CancellationToken cancellationToken = default)
    {
        var history = new List<StepRecord>(episode.Steps);
        var visible = history.AsReadOnly();
        for (var trial = 0; trial < episode.Experiments.Length; trial++)
        {
            var experiment = episode.Experiments[trial];
            cancellationToken.ThrowIfCancellationRequested();
            var transformView = new EpisodeView(episode.Brief, Phase.Explore, history.Count, null, visible)
            {
                OddOneOut = new OddOneOutView(trial, false, TrialStage.Transform, experiment.Objects),
            };
            var transform = await agent.DecideAsync(transformView, cancellationToken).ConfigureAwait(false);
            var transformed = Transform(history.Count, experiment, transform);
            history.Add(transformed);

            cancellationToken.ThrowIfCancellationRequested();
            var objects = transformed.Outcome!.Objects;
            var pickView = new EpisodeView(episode.Brief, Phase.Explore, history.Count, null, visible)
            {
                OddOneOut = new OddOneOutView(trial, false, TrialStage.Pick, objects),
            };
            var pick = await agent.DecideAsync(pickView, cancellationToken).ConfigureAwait(false);
            history.Add(Pick(history.Count, Phase.Explore, objects, episode.Concept, pick));
        }
        cancellationToken.ThrowIfCancellationRequested();
        var exploitView = new EpisodeView(episode.Brief, Phase.Exploit, history.Count, null, visible)
        {
            OddOneOut = new OddOneOutView(episode.Experiments.Length, true, TrialStage.Pick, episode.ExploitObjects),
        };
        var exploit = await agent.DecideAsync(exploitView, cancellationToken).ConfigureAwait(false);
        history.Add(Pick(history.Count, Phase.Exploit, episode.ExploitObjects, episode.Concept, exploit));
        return new EpisodeTranscript([.. history]);
    }

    private static StepRecord Transform(int index, ExperimentTrial trial, AgentDecision decision)
    {
        var objects = trial.Objects;
        if (decision.Move is not { } move)
        {
            return Failed(index, Phase.Explore, decision, StepStatus.ParseFailure, decision.ParseError ?? "the answer contains no action", objects);
        }
        if (move.Kind != MoveKind.Transform || move.Dimension is not { } dimension)
        {
            return Failed(index, Phase.Explore, decision, StepStatus.Invalid, "this step asks for transform(<object>, <dimension>)", objects);
        }
        var target = OddObject.IndexOf(objects, move.Object);
        if (target < 0)
        {
            return Failed(index, Phase.Explore, decision, StepStatus.Invalid, $"'{move.Object}' is not an object of this trial", objects);
        }
        var changed = objects.SetItem(target, objects[target].With(dimension, trial.TransformValue(dimension)));
        return new StepRecord(index, Phase.Explore, decision, StepStatus.Valid, null, default) { Outcome = new OddOneOutOutcome(changed, null) };
    }

    private static StepRecord Pick(int index, Phase phase, ImmutableArray<OddObject> objects, Dimension concept, AgentDecision decision)
    {
        if (decision.Move is not { } move)
        {
            return Failed(index, phase, decision, StepStatus.ParseFailure, decision.ParseError ?? "the answer contains no action", objects);
        }
        if (move.Kind != MoveKind.Pick)
        {
            return Failed(index, phase, decision, StepStatus.Invalid, "this step asks for pick(<object>)", objects);
        }
        var picked = OddObject.IndexOf(objects, move.Object);
        if (picked < 0)
        {
            return Failed(index, phase, decision, StepStatus.Invalid, $"'{move.Object}' is not an object of this trial", objects);
        }
        var correct = OddObject.IsUnique(objects, picked, concept);
        return new StepRecord(index, phase, decision, StepStatus.Valid, null, default) { Outcome = new OddOneOutOutcome(objects, correct) };
    }

    private static StepRecord Failed(int index, Phase phase, AgentDecision decision, StepStatus status, string error, ImmutableArray<OddObject> objects)
        => new(index, phase, decision, status, error, default) { Outcome = new OddOneOutOutcome(objects, null) };

    /// <summary>The experiment trials the history holds so far: each trial's transform step and pick step (either may be missing).</summary>
    public static IEnumerable<(StepRecord? Transform, StepRecord? Pick)> Experiments(IReadOnlyList<StepRecord> history)
    {
        for (var i = 0; i < history.Count; i += 2)
        {
            if (history[i].Phase != Phase.Explore)
            {
                yield break;
            }
            yield return (history[i], i + 1 < history.Count && history[i + 1].Phase == Phase.Explore ? history[i + 1] : null);
        }
    }
}
