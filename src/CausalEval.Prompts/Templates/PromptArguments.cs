using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;
using CausalEval.Prompts.FewShot;
using CausalEval.Prompts.Naming;
using Microsoft.SemanticKernel;
using static CausalEval.Prompts.FewShot.ExpertExamples;

namespace CausalEval.Prompts.Templates;

/// <summary>A few-shot example with the names it is shown under.</summary>
internal sealed record ShownExample(ExpertExample Example, NameMap Names);

/// <summary>
/// The template's input: the episode as the agent may see it, in shown names and display-formatted numbers (values with
/// 2 decimals, settings as written). Every template of <c>prompts/</c> reads these names; README §"Prompt templates"
/// lists them. Lists are of strings or of small objects, so Handlebars' <c>#each</c>, <c>#if</c> and <c>join</c> suffice.
/// </summary>
internal static class PromptArguments
{
    /// <summary>A change of at least this much from 0 counts as an effect in the examples' explanations (noise sd is 0.1).</summary>
    public const double EffectThreshold = 1.0;

    // Every dictionary below is made with room for the entries it gets (its literal's count), so none grows while it is
    // filled (growing them was about 4 KB of the 84 KB a call allocated). The entries and their order are the same.

    /// <summary>The arguments of one rendering.</summary>
    /// <param name="family">The task family (its templates read different arguments).</param>
    /// <param name="view">What the agent may see of the episode so far.</param>
    /// <param name="names">How the episode's variables are shown.</param>
    /// <param name="examples">The few-shot examples' arguments (<see cref="Examples"/>, built once per episode: they never change).</param>
    /// <param name="answers">The raw answers given so far, one per step of <paramref name="view"/>'s history.</param>
    /// <param name="fromTurn">Turns before this one are left null (a split template renders only the newest turns).</param>
    /// <param name="episode">The episode's own arguments (<see cref="EpisodeArguments"/>) when the caller keeps them across steps; null: built here.</param>
    /// <param name="feedback">The turns' feedback arguments when the caller keeps them across the steps of a trial; null: built here.</param>
    public static KernelArguments Build(string family, EpisodeView view, NameMap names, IReadOnlyList<Dictionary<string, object?>> examples, IReadOnlyList<string> answers,
        int fromTurn = 0, IReadOnlyDictionary<string, object?>? episode = null, FeedbackMemo? feedback = null)
    {
        var brief = view.Brief;
        var arguments = new KernelArguments();
        foreach (var (key, value) in episode ?? EpisodeArguments(view, names))
        {
            arguments[key] = value;
        }
        arguments["family"] = family;
        arguments["has_examples"] = examples.Count > 0;
        arguments["examples"] = examples;
        var turns = new List<Dictionary<string, object?>?>(view.History.Count + 1);
        for (var i = 0; i <= view.History.Count; i++)
        {
            if (i < fromTurn)
            {
                turns.Add(null);
                continue;
            }
            var (phase, target) = i < view.History.Count ? (view.History[i].Phase, view.Target) : (view.Phase, view.Target);
            var explored = view.History.Take(i).Count(s => s.Phase == Phase.Explore);
            turns.Add(new Dictionary<string, object?>(13)
            {
                ["number"] = i + 1,
                ["phase"] = PhaseName(phase),
                ["is_explore"] = phase == Phase.Explore,
                ["is_exploit"] = phase == Phase.Exploit,
                ["is_structure"] = phase == Phase.Structure,
                ["experiment_number"] = phase == Phase.Explore ? explored + 1 : null,
                ["experiments_left"] = phase == Phase.Explore ? brief.ExploreSteps - explored : 0,
                ["is_last_experiment"] = phase == Phase.Explore && explored + 1 == brief.ExploreSteps,
                ["target"] = phase == Phase.Explore ? (brief.GoalFirst && target is not null ? names.Show(target) : null) : target is null ? null : names.Show(target),
                ["exploit_variables"] = target is null ? new List<string>() : brief.ExploitVariables(target).Select(names.Show).ToList(),
                ["feedback"] = i == 0 ? null : feedback is null ? Feedback(view.History[i - 1], brief, names) : feedback.Get(i, view.History[i - 1], brief, names),
                ["has_answer"] = i < view.History.Count,
                ["answer"] = i < view.History.Count ? (i < answers.Count ? answers[i] : view.History[i].Decision.RawAnswer ?? "") : null,
            });
        }
        arguments["turns"] = turns;
        arguments["phase"] = PhaseName(view.Phase);
        return arguments;
    }

    /// <summary>
    /// The arguments of the episode itself (variables, allowed values, subset, evidence, the target when the goal comes
    /// first): the same at every step of a trial, so the LLM agent builds them once (the templates only read them).
    /// </summary>
    public static IReadOnlyDictionary<string, object?> EpisodeArguments(EpisodeView view, NameMap names) =>
        Episode(view.Brief, names, view.Brief.GoalFirst ? view.Target : null);

    /// <summary>The few-shot examples' arguments, numbered from 1; each with its own names.</summary>
    public static IReadOnlyList<Dictionary<string, object?>> Examples(IReadOnlyList<ShownExample> examples) =>
        [.. examples.Select((e, i) => Example(e, i + 1))];

    private static Dictionary<string, object?> Episode(EpisodeBrief brief, NameMap names, string? goalTarget, int capacity = 11)
    {
        var hasSubset = !brief.Subset.IsDefaultOrEmpty;
        return new Dictionary<string, object?>(capacity)
        {
            ["variables"] = brief.Variables.Select(names.Show).ToList(),
            ["variable_count"] = brief.Variables.Length,
            ["allowed_values"] = brief.AllowedValues.Select(Setting).ToList(),
            ["has_subset"] = hasSubset,
            ["subset"] = hasSubset ? brief.Subset.Select(names.Show).ToList() : new List<string>(),
            ["explore_variables"] = brief.ExploreVariables.Select(names.Show).ToList(),
            ["explore_steps"] = brief.ExploreSteps,
            ["goal_first"] = brief.GoalFirst,
            ["target"] = goalTarget is null ? null : names.Show(goalTarget),
            ["ask_structure"] = brief.AskStructure,
            ["evidence"] = brief.Evidence is { } evidence ? Evidence(evidence, brief, names) : null,
        };
    }

    private static Dictionary<string, object?> Evidence(PassiveEvidence evidence, EpisodeBrief brief, NameMap names) => new(5)
    {
        ["condition"] = evidence.Condition,
        ["is_interventional"] = evidence.Condition != PassiveEvidence.Observational,
        ["is_observational"] = evidence.Condition == PassiveEvidence.Observational,
        ["sample_count"] = evidence.Samples.Length,
        ["samples"] = evidence.Samples.Select((s, i) => new Dictionary<string, object?>(5)
        {
            ["number"] = i + 1,
            ["has_action"] = s.Intervention is not null,
            ["action"] = s.Intervention is { } a ? Action(a, names) : null,
            ["values"] = Values(brief.Variables, s.Values, names),
            ["values_text"] = ValuesText(brief.Variables, s.Values, names),
        }).ToList(),
    };

    private static Dictionary<string, object?> Example(ShownExample shown, int number)
    {
        var (example, names) = (shown.Example, shown.Names);
        var episode = example.Episode;
        var brief = episode.Brief;
        var data = Episode(brief, names, episode.Target, capacity: 21);
        data["number"] = number;
        data["target"] = names.Show(episode.Target);
        data["exploit_variables"] = episode.ExploitVariables.Select(names.Show).ToList();

        // Experiments: the expert's own (explore-exploit) or those in the passive evidence (interventional conditions).
        var experiments = new List<(Intervention Action, ImmutableArray<double> Values)>();
        experiments.AddRange(example.Transcript.Steps.Where(s => s.Phase == Phase.Explore && s.Status == StepStatus.Valid && s.Action is not null)
            .Select(s => (s.Action!.Value, s.Observation)));
        experiments.AddRange((brief.Evidence?.Samples ?? []).Where(s => s.Intervention is not null).Select(s => (s.Intervention!.Value, s.Values)));
        data["experiments"] = experiments.Select((e, i) => Experiment(e.Action, e.Values, brief, names, i + 1)).ToList();

        var estimates = Estimates(example, out var fromInterventions);
        data["estimates_from_interventions"] = fromInterventions;
        data["estimates"] = estimates.Select(e => new Dictionary<string, object?>(2) { ["name"] = names.Show(e.Variable), ["effect"] = Signed(e.Effect) }).ToList();
        var best = estimates.SelectMany(e => brief.AllowedValues.Select(v => (Action: new Intervention(e.Variable, v), Expected: v * e.Effect)))
            .Aggregate((a, b) => b.Expected > a.Expected ? b : a);
        var exploit = example.Transcript.Exploit?.Action ?? best.Action;
        data["answer"] = Action(exploit, names);
        data["answer_line"] = $"ACTION: {ActionText(exploit, names)}";
        data["expected"] = Number(estimates.First(e => e.Variable == exploit.Variable).Effect * exploit.Value);
        var edges = example.Transcript.Structure?.Decision.Edges;
        data["has_structure"] = edges is not null;
        data["edges_line"] = edges is { } list ? "EDGES: " + (list.IsEmpty ? "none" : string.Join(", ", list.Select(e => $"{names.Show(e.From)}->{names.Show(e.To)}"))) : null;
        return data;
    }

    private static Dictionary<string, object?> Experiment(Intervention action, ImmutableArray<double> values, EpisodeBrief brief, NameMap names, int number)
    {
        var effects = new List<Dictionary<string, object?>>();
        var unaffected = new List<string>();
        for (var i = 0; i < brief.Variables.Length; i++)
        {
            var variable = brief.Variables[i];
            if (variable == action.Variable)
            {
                continue;
            }
            if (Math.Abs(values[i]) >= EffectThreshold)
            {
                effects.Add(new Dictionary<string, object?>(6)
                {
                    ["name"] = names.Show(variable),
                    ["value"] = Number(values[i]),
                    ["rose"] = values[i] > 0,
                    ["direction"] = values[i] > 0 ? "rose" : "fell",
                    ["same_sign"] = values[i] * action.Value > 0,
                    ["per_unit"] = Signed(values[i] / action.Value),
                });
            }
            else
            {
                unaffected.Add(names.Show(variable));
            }
        }
        return new Dictionary<string, object?>(8)
        {
            ["number"] = number,
            ["action"] = Action(action, names),
            ["values"] = Values(brief.Variables, values, names),
            ["values_text"] = ValuesText(brief.Variables, values, names),
            ["effects"] = effects,
            ["has_effects"] = effects.Count > 0,
            ["unaffected"] = unaffected,
            ["has_unaffected"] = unaffected.Count > 0,
        };
    }

    /// <summary>
    /// Each turn's feedback arguments, kept across the steps of one trial (one brief, one naming): a turn's feedback shows
    /// a step already played, which never changes, and each step renders again the turn just answered.
    /// </summary>
    internal sealed class FeedbackMemo
    {
        private readonly List<(StepRecord Step, Dictionary<string, object?>? Feedback)> _built = [];

        /// <summary>Turn <paramref name="turn"/>'s feedback on <paramref name="step"/>: the one built before for the same step, else a new one.</summary>
        public Dictionary<string, object?>? Get(int turn, StepRecord step, EpisodeBrief brief, NameMap names)
        {
            if (turn < _built.Count && ReferenceEquals(_built[turn].Step, step))
            {
                return _built[turn].Feedback;
            }
            var feedback = Feedback(step, brief, names);
            while (_built.Count <= turn)
            {
                _built.Add(default);
            }
            _built[turn] = (step, feedback);
            return feedback;
        }
    }

    private static Dictionary<string, object?>? Feedback(StepRecord step, EpisodeBrief brief, NameMap names) => new(9)
    {
        ["phase"] = PhaseName(step.Phase),
        ["action"] = step.Action is { } a ? Action(a, names) : null,
        ["is_valid"] = step.Status == StepStatus.Valid,
        ["is_invalid"] = step.Status == StepStatus.Invalid,
        ["is_parse_failure"] = step.Status == StepStatus.ParseFailure,
        ["error"] = step.Error is null ? null : names.Translate(step.Error),
        ["has_values"] = !step.Observation.IsDefault,
        ["values"] = step.Observation.IsDefault ? new List<Dictionary<string, object?>>() : Values(brief.Variables, step.Observation, names),
        ["values_text"] = step.Observation.IsDefault ? null : ValuesText(brief.Variables, step.Observation, names),
    };

    private static Dictionary<string, object?> Action(Intervention action, NameMap names) => new(3)
    {
        ["variable"] = names.ShowRead(action.Variable),
        ["value"] = Setting(action.Value),
        ["text"] = ActionText(action, names),
    };

    private static string ActionText(Intervention action, NameMap names) => $"do({names.ShowRead(action.Variable)} = {Setting(action.Value)})";

    private static List<Dictionary<string, object?>> Values(ImmutableArray<string> variables, ImmutableArray<double> values, NameMap names) =>
        [.. variables.Select((v, i) => new Dictionary<string, object?>(2) { ["name"] = names.Show(v), ["value"] = Number(values[i]) })];

    private static string ValuesText(ImmutableArray<string> variables, ImmutableArray<double> values, NameMap names) =>
        string.Join(", ", variables.Select((v, i) => $"{names.Show(v)} = {Number(values[i])}"));

    private static string PhaseName(Phase phase) => phase switch { Phase.Explore => "explore", Phase.Exploit => "exploit", _ => "structure" };
}
