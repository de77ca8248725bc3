using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Tasks;

namespace CausalEval.Baseline;

/// <summary>
/// Odd-one-out demonstrations as dense arrays: <c>Features</c> [episodes, tokens, features]; per token the expert's
/// action class, and the explanation labels: the concept's dimension and whether the last pick was correct at each
/// token that follows an experiment pick, and at each experiment pick the picked object and whether the environment
/// explains that pick as correct (1) or incorrect (0) (−100: none). All episodes have the same length (the task's experiments).
/// </summary>
internal sealed class OddDemonstrationSet
{
    public required int Episodes { get; init; }
    public required int Tokens { get; init; }
    public required OddEncoderShape Shape { get; init; }
    public required float[] Features { get; init; }
    public required long[] Actions { get; init; }
    public required long[] Concepts { get; init; }
    public required long[] Outcomes { get; init; }
    public required long[] PickedObjects { get; init; }
    public required float[] PickCorrect { get; init; }
    public required IReadOnlyList<DemonstrationSource> Sources { get; init; }
}

/// <summary>
/// Builds odd-one-out demonstrations from builtin/expert's episodes on a task's train split (the generator redraws any
/// validation or test episode, so none is trained on).
/// </summary>
internal static class OddDemonstrations
{
    /// <summary>The explanation of step <paramref name="pick"/>, as its two labels: the concept's dimension and 0 correct / 1 incorrect; null for no explanation.</summary>
    public static (long Concept, long Outcome)? Explanation(StepRecord pick, Dimension concept)
        => pick is { Phase: Phase.Explore, Status: StepStatus.Valid, Decision.Move.Kind: MoveKind.Pick, Outcome.Correct: { } correct }
            ? ((long)concept, correct ? 0 : 1)
            : null;

    /// <summary>The expert's transcript of a train episode (it is deterministic: no seed).</summary>
    public static EpisodeTranscript Play(OddOneOutEpisode episode)
    {
        var agent = BuiltinAgents.All["expert"].Create(new TrialContext($"demonstration-{episode.Id}", episode, 1, episode.Seed, null));
        var pending = OddOneOutEngine.RunAsync(episode, agent);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    public static OddDemonstrationSet Build(TaskDefinition task, int episodes, OddEncoderShape shape, Action<string>? log = null)
    {
        if (task.OddOneOut is null)
        {
            throw new Core.InputException("--task", task.Id, "is not an odd-one-out task");
        }
        var tokens = 2 * task.OddOneOut.Experiments + 1;
        if (OddEncoder.Unsupported(shape, tokens, OddOneOutEpisode.ObjectNames.Length) is { } problem)
        {
            throw new Core.InputException("--task", task.Id, problem);
        }
        var features = shape.Features;
        var set = new OddDemonstrationSet
        {
            Episodes = episodes,
            Tokens = tokens,
            Shape = shape,
            Features = new float[episodes * tokens * features],
            Actions = Enumerable.Repeat(DemonstrationSet.NoLabel, episodes * tokens).ToArray(),
            Concepts = Enumerable.Repeat(DemonstrationSet.NoLabel, episodes * tokens).ToArray(),
            Outcomes = Enumerable.Repeat(DemonstrationSet.NoLabel, episodes * tokens).ToArray(),
            PickedObjects = Enumerable.Repeat(DemonstrationSet.NoLabel, episodes * tokens).ToArray(),
            PickCorrect = new float[episodes * tokens],
            Sources = [new DemonstrationSource(task.Id, task.Version, TaskDefinition.TrainSplit, episodes, []) { Drawn = episodes }],
        };
        var confounded = 0;
        for (var i = 0; i < episodes; i++)
        {
            var episode = OddOneOutGenerator.GenerateEpisode(task, TaskDefinition.TrainSplit, i);
            confounded += episode.Confounded ? 1 : 0;
            var steps = Play(episode).Steps;
            var history = steps.Take(steps.Length - 1).ToList();
            var decisions = OddEncoder.Decisions(steps, null);
            OddEncoder.Encode(shape, history, decisions, set.Features.AsSpan(i * tokens * features, tokens * features));
            for (var j = 0; j < steps.Length; j++)
            {
                var step = steps[j];
                if (step.Status != StepStatus.Valid || step.Decision.Move is not { } move)
                {
                    throw new InvalidOperationException($"the expert's step {j} of {episode.Id} is {step.Status}: {step.Error}");
                }
                var objects = step.Outcome!.Objects;
                set.Actions[i * tokens + j] = OddEncoderShape.ClassOf(OddObject.IndexOf(objects, move.Object),
                    move.Kind == MoveKind.Transform ? (int)move.Dimension!.Value : OddEncoderShape.PickSlot);
                if (Explanation(step, episode.Concept) is { } own)
                {
                    set.PickedObjects[i * tokens + j] = OddObject.IndexOf(objects, move.Object);
                    set.PickCorrect[i * tokens + j] = own.Outcome == 0 ? 1 : 0;
                }
                if (j > 0 && Explanation(steps[j - 1], episode.Concept) is { } explained)
                {
                    set.Concepts[i * tokens + j] = explained.Concept;
                    set.Outcomes[i * tokens + j] = explained.Outcome;
                }
            }
        }
        log?.Invoke($"demonstrations: {episodes} expert episodes from {task.Id} (v{task.Version}, train split; {confounded} with a confounded exploit trial)");
        return set;
    }
}
