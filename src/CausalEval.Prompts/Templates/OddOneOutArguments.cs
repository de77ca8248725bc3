using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Prompts.FewShot;
using CausalEval.Prompts.Naming;
using Microsoft.SemanticKernel;

namespace CausalEval.Prompts.Templates;

/// <summary>An odd-one-out few-shot example with the object names it is shown under.</summary>
internal sealed record ShownPuzzle(OddOneOutExample Example, NameMap Names);

/// <summary>
/// The input of the odd-one-out templates (<c>prompts/odd-one-out/</c>): the agent's own trials as it saw them (objects,
/// the question of each step, the feedback — only correct or incorrect after a pick) and the few-shot examples, whose
/// experiments carry the environment's explanations and worked reasoning for the variants that show them. Object names
/// are shown through the naming scheme. README §"Prompt templates" lists the names.
/// </summary>
internal static class OddOneOutArguments
{
    /// <param name="view">What the agent may see now.</param>
    /// <param name="shown">The trial view of every step so far and of this one (what each question showed).</param>
    /// <param name="names">How object names are shown.</param>
    /// <param name="examples">The few-shot examples' arguments (<see cref="Examples"/>, built once per episode: they never change).</param>
    /// <param name="answers">The raw answers given so far, one per step of <paramref name="view"/>'s history.</param>
    /// <param name="fromTurn">Turns before this one are left null (a split template renders only the newest turns).</param>
    public static KernelArguments Build(EpisodeView view, IReadOnlyList<OddOneOutView> shown, NameMap names, IReadOnlyList<Dictionary<string, object?>> examples,
        IReadOnlyList<string> answers, int fromTurn = 0)
    {
        var experiments = (view.Brief.ExploreSteps + 1) / 2;
        var arguments = new KernelArguments
        {
            ["family"] = Core.Tasks.TaskDefinition.OddOneOutFamily,
            ["dimensions"] = Dimensions.All.Select(d => d.Name()).ToList(),
            ["experiment_count"] = experiments,
            ["object_count"] = view.Brief.Variables.Length,
            ["has_examples"] = examples.Count > 0,
            ["examples"] = examples,
        };
        var turns = new List<Dictionary<string, object?>?>(shown.Count);
        for (var i = 0; i < shown.Count; i++)
        {
            if (i < fromTurn)
            {
                turns.Add(null);
                continue;
            }
            var trial = shown[i];
            turns.Add(new Dictionary<string, object?>
            {
                ["number"] = i + 1,
                ["trial_number"] = trial.Trial + 1,
                ["is_transform"] = trial.Stage == TrialStage.Transform,
                ["is_pick"] = !trial.Exploit && trial.Stage == TrialStage.Pick,
                ["is_exploit"] = trial.Exploit,
                ["is_last_experiment"] = !trial.Exploit && trial.Trial + 1 == experiments,
                ["objects"] = Objects(trial.Objects, names),
                ["feedback"] = i == 0 ? null : Feedback(view.History[i - 1], names),
                ["has_answer"] = i < view.History.Count,
                ["answer"] = i < view.History.Count ? (i < answers.Count ? answers[i] : view.History[i].Decision.RawAnswer ?? "") : null,
            });
        }
        arguments["turns"] = turns;
        return arguments;
    }

    /// <summary>The few-shot examples' arguments, numbered from 1; each with its own names.</summary>
    public static IReadOnlyList<Dictionary<string, object?>> Examples(IReadOnlyList<ShownPuzzle> examples) =>
        [.. examples.Select((e, i) => Example(e, i + 1))];

    private static Dictionary<string, object?> Feedback(StepRecord step, NameMap names)
    {
        var move = step.Decision.Move;
        var changed = step.Status == StepStatus.Valid && move is { Kind: MoveKind.Transform } m
            ? step.Outcome!.Objects.First(o => o.Name == m.Object)
            : null;
        return new Dictionary<string, object?>
        {
            ["is_valid"] = step.Status == StepStatus.Valid,
            ["is_invalid"] = step.Status == StepStatus.Invalid,
            ["is_parse_failure"] = step.Status == StepStatus.ParseFailure,
            ["error"] = step.Error is null ? null : names.Translate(step.Error),
            ["is_transform"] = changed is not null,
            ["is_pick"] = step.Status == StepStatus.Valid && move is { Kind: MoveKind.Pick },
            ["move"] = move is { } shownMove ? MoveText(shownMove, names) : null,
            ["object"] = move is { } picked ? names.ShowRead(picked.Object) : null,
            ["changed"] = changed is null ? null : ObjectText(changed, names),
            ["correct"] = step.Outcome?.Correct == true,
            ["outcome"] = step.Outcome?.Correct is { } correct ? (correct ? "correct" : "incorrect") : null,
        };
    }

    private static Dictionary<string, object?> Example(ShownPuzzle shown, int number)
    {
        var (example, names) = (shown.Example, shown.Names);
        var episode = example.Episode;
        var steps = example.Transcript.Steps;
        var trials = new List<Dictionary<string, object?>>();
        var posterior = ConceptPosterior.Uniform;
        for (var t = 0; t < episode.Experiments.Length; t++)
        {
            var (transform, pick) = (steps[2 * t], steps[2 * t + 1]);
            var move = transform.Decision.Move!.Value;
            var dimension = move.Dimension!.Value;
            var after = transform.Outcome!.Objects;
            var changed = after.First(o => o.Name == move.Object);
            var picked = OddObject.IndexOf(after, pick.Decision.Move!.Value.Object);
            var correct = pick.Outcome!.Correct == true;
            var known = posterior.Remaining == 1;
            trials.Add(new Dictionary<string, object?>
            {
                ["number"] = t + 1,
                ["objects"] = Objects(episode.Experiments[t].Objects, names),
                ["transform_reasoning"] = known
                    ? $"The concept is already known, but {dimension.Name()} has not been tested yet; transforming {names.Show(move.Object)} along {dimension.Name()} makes it the only {changed.Value(dimension)} object."
                    : $"{Capital(dimension.Name())} has not been tested yet; transforming {names.Show(move.Object)} along {dimension.Name()} makes it differ from the others in its {dimension.Name()} only.",
                ["transform_line"] = $"ACTION: {MoveText(move, names)}",
                ["changed"] = ObjectText(changed, names),
                ["description"] = OddOneOutExplanations.Describe(changed),
                ["pick_reasoning"] = $"{names.Show(move.Object)} is now the only {changed.Value(dimension)} object and the only object unique along any dimension; picking it tests whether the concept is {dimension.Name()}.",
                ["pick_line"] = $"ACTION: pick({names.Show(after[picked].Name)})",
                ["outcome"] = correct ? "correct" : "incorrect",
                ["explanation"] = OddOneOutExplanations.AfterPick(after, picked, episode.Concept),
            });
            posterior = posterior.Update(after, picked, correct);
        }
        var exploit = steps[^1];
        var answer = OddObject.IndexOf(episode.ExploitObjects, exploit.Decision.Move!.Value.Object);
        var concept = Dimensions.All.First(d => posterior[d] > 0.5);
        var value = episode.ExploitObjects[answer].Value(concept);
        return new Dictionary<string, object?>
        {
            ["number"] = number,
            ["trials"] = trials,
            ["exploit"] = new Dictionary<string, object?>
            {
                ["objects"] = Objects(episode.ExploitObjects, names),
                ["reasoning"] = $"The experiments showed that the concept is {concept.Name()}: only the object made unique along {concept.Name()} was correct. Here only {names.Show(episode.ExploitObjects[answer].Name)} is unique along {concept.Name()} (the only {value} object), so it is the odd one out.",
                ["pick_line"] = $"ACTION: pick({names.Show(episode.ExploitObjects[answer].Name)})",
                ["outcome"] = exploit.Outcome!.Correct == true ? "correct" : "incorrect",
                ["explanation"] = OddOneOutExplanations.AfterPick(episode.ExploitObjects, answer, episode.Concept),
            },
        };
    }

    private static List<Dictionary<string, object?>> Objects(IEnumerable<OddObject> objects, NameMap names) =>
        [.. objects.Select(o => new Dictionary<string, object?>
        {
            ["name"] = names.Show(o.Name),
            ["colour"] = o.Colour,
            ["texture"] = o.Texture,
            ["shape"] = o.Shape,
            ["text"] = ObjectText(o, names),
        })];

    /// <summary>"A — colour: red, texture: solid, shape: cube".</summary>
    private static string ObjectText(OddObject o, NameMap names) => $"{names.Show(o.Name)} — colour: {o.Colour}, texture: {o.Texture}, shape: {o.Shape}";

    private static string MoveText(OddOneOutMove move, NameMap names) => move.Kind == MoveKind.Transform
        ? $"transform({names.ShowRead(move.Object)}, {move.Dimension?.Name()})"
        : $"pick({names.ShowRead(move.Object)})";

    private static string Capital(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
