using System.Collections.Immutable;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.FewShot;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Parsing;
using CausalEval.Prompts.Templates;
using Microsoft.Extensions.AI;

namespace CausalEval.Prompts.Tests;

/// <summary>
/// The odd-one-out prompts: the answer table of both parsers, the four variants rendered for a fixed episode (snapshots),
/// what the few-shot examples are drawn from, and that the model's own episode never shows an explanation.
/// </summary>
public class OddOneOutPromptTests
{
    private static readonly ImmutableArray<string> Objects = ["A", "B", "C", "D"];
    private static readonly NameMap Letters = NameMap.Identity(Objects);
    private static readonly NameMap Semantic = new(NamingSchemes.Semantic, Objects, ["blue lamp", "Größe Ü", "x", "heart rate (bpm)"]);

    public static TheoryData<string, string, bool, string?, string?> Answers => new()
    {
        // case, answer, semantic names?, strict, lenient (as OddOneOutMove.ToString in world names)
        { "exact transform", "ACTION: transform(A, colour)", false, "transform(A, colour)", "transform(A, colour)" },
        { "exact pick", "ACTION: pick(C)", false, "pick(C)", "pick(C)" },
        { "reasoning first", "B is the only grid one.\nSo:\nACTION: pick(B)", false, "pick(B)", "pick(B)" },
        { "trailing blank lines and CRLF", "Hmm.\r\nACTION: transform(D, shape)\r\n\r\n", false, "transform(D, shape)", "transform(D, shape)" },
        { "an unknown object (the engine rejects it)", "ACTION: pick(Z)", false, "pick(Z)", "pick(Z)" },
        { "a pick where a transform is asked (the engine rejects it)", "ACTION: pick(A)", false, "pick(A)", "pick(A)" },
        { "American spelling", "ACTION: transform(A, color)", false, null, "transform(A, colour)" },
        { "upper-case dimension", "ACTION: transform(A, Shape)", false, null, "transform(A, shape)" },
        { "no space after the comma", "ACTION: transform(A,texture)", false, null, "transform(A, texture)" },
        { "lower-case label", "action: pick(b)", false, null, "pick(B)" },
        { "markdown bold", "**ACTION: pick(C)**", false, null, "pick(C)" },
        { "no label", "I pick(D) because it is odd.", false, null, "pick(D)" },
        { "quoted object (strict: not a shown name, the engine rejects it)", "ACTION: pick(\"A\")", false, "pick(\"A\")", "pick(A)" },
        { "two ACTION lines", "ACTION: pick(A)\nACTION: pick(B)", false, null, "pick(B)" },
        { "text after the action", "ACTION: pick(A)\nGood luck!", false, null, "pick(A)" },
        { "an unknown dimension", "ACTION: transform(A, size)", false, null, null },
        { "the DAG format", "ACTION: do(A = 5)", false, null, null },
        { "prose only", "I think it is the red one.", false, null, null },
        { "empty", "", false, null, null },
        { "semantic name with a space", "ACTION: pick(blue lamp)", true, "pick(A)", "pick(A)" },
        { "semantic name with parentheses", "ACTION: transform(heart rate (bpm), colour)", true, null, null },
        { "semantic name, other case", "action: pick(Blue Lamp)", true, null, "pick(A)" },
        { "unicode name", "ACTION: transform(Größe Ü, texture)", true, "transform(B, texture)", "transform(B, texture)" },
        { "a world letter under semantic names is not an object", "ACTION: pick(A)", true, "pick(?A)", "pick(?A)" },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void Strict_and_lenient_readings_of_the_answer_table(string @case, string answer, bool semantic, string? strict, string? lenient)
    {
        var parsed = MoveParser.Parse(answer, semantic ? Semantic : Letters);

        Assert.True(strict == parsed.Strict.Value?.ToString(), $"{@case}: strict read {parsed.Strict.Value?.ToString() ?? parsed.Strict.Error}");
        Assert.True(lenient == parsed.Lenient.Value?.ToString(), $"{@case}: lenient read {parsed.Lenient.Value?.ToString() ?? parsed.Lenient.Error}");
        Assert.True(parsed.Strict.Value is not null || parsed.Strict.Error is not null, $"{@case}: a failed strict reading says why");
    }

    public static TheoryData<string> Variants => [.. PromptLibrary.StandardVariants];

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Each_variant_renders_as_committed(string variant)
    {
        Repo.MatchSnapshot($"odd-one-out/{variant}.txt", await Conversation(variant, NamingSchemes.Letters));
    }

    [Fact]
    public async Task Semantic_object_names_render_as_committed()
    {
        Repo.MatchSnapshot($"odd-one-out/{PromptLibrary.DefaultVariant}.semantic.txt", await Conversation(PromptLibrary.DefaultVariant, NamingSchemes.Semantic));
    }

    /// <summary>
    /// odd-one-out-confounded test-0000, answered: a valid transform and pick, an unreadable transform, a pick of an
    /// unknown object, a valid transform along the concept and its pick, then the exploit pick.
    /// </summary>
    private static async Task<string> Conversation(string variant, string scheme)
    {
        var (task, episode) = TestPuzzle();
        var names = NamingSchemes.For(scheme, episode.Brief.Variables, Repo.Prompts.Names(scheme), $"{task.Id}/{episode.Id}");
        var concept = episode.Concept.Name();
        string[] script =
        [
            $"ACTION: transform({names.Show("A")}, {(episode.Concept == Dimension.Colour ? "texture" : "colour")})",
            $"It is the only changed object.\nACTION: pick({names.Show("A")})",
            "I would change the shape of the second one.",
            "ACTION: pick(Q)",
            $"ACTION: transform({names.Show("B")}, {concept})",
            $"ACTION: pick({names.Show("B")})",
            $"ACTION: pick({names.Show(episode.Answer)})",
        ];
        var client = new ScriptedChatClient((call, _) => script[call]);
        var transcript = await PlayAsync(task, episode, client, variant, scheme);
        Assert.Equal([StepStatus.Valid, StepStatus.Valid, StepStatus.ParseFailure, StepStatus.Invalid, StepStatus.Valid, StepStatus.Valid, StepStatus.Valid],
            transcript.Steps.Select(s => s.Status));
        Assert.Equal(true, transcript.Steps[5].Outcome!.Correct);
        Assert.Equal(true, transcript.Exploit!.Outcome!.Correct);
        return Play.Conversation(client, transcript);
    }

    private static (TaskDefinition Task, OddOneOutEpisode Episode) TestPuzzle(string taskId = "odd-one-out-confounded")
    {
        var task = Repo.Tasks.Load(taskId);
        return (task, (OddOneOutEpisode)Repo.Tasks.LoadEpisodes(task, TaskDefinition.TestSplit, 1).Single());
    }

    private static async Task<EpisodeTranscript> PlayAsync(TaskDefinition task, OddOneOutEpisode episode, IChatClient client, string variant, string scheme)
    {
        var agent = LlmAgent.Factory(client, Play.Setup, ModelSettings.Default)(new TrialContext("trial", episode, 1, 42, variant, scheme, task));
        return await OddOneOutEngine.RunAsync(episode, agent);
    }

    [Fact]
    public async Task The_models_own_episode_shows_only_correct_or_incorrect_while_examples_carry_explanations_only_where_the_variant_has_them()
    {
        var (task, episode) = TestPuzzle();
        foreach (var variant in PromptLibrary.StandardVariants)
        {
            // Transforms along the concept, so every experiment pick is correct.
            var client = new ScriptedChatClient((call, _) => call % 2 == 0 && call < 6 ? $"ACTION: transform(A, {episode.Concept.Name()})" : "ACTION: pick(A)");
            await PlayAsync(task, episode, client, variant, NamingSchemes.Letters);
            var messages = client.Requests[^1];
            var system = messages[0].Text;
            Assert.All(messages.Where(m => m.Role == ChatRole.User), m => Assert.DoesNotContain("the concept is", m.Text, StringComparison.Ordinal));
            Assert.Contains("Your pick of A was correct.", string.Join("\n", messages.Where(m => m.Role == ChatRole.User).Select(m => m.Text)), StringComparison.Ordinal);
            Assert.Equal(variant.Contains("explanations", StringComparison.Ordinal), system.Contains(": the concept is ", StringComparison.Ordinal));
            Assert.Equal(variant.Contains("explanations", StringComparison.Ordinal), system.Contains("This is a ", StringComparison.Ordinal));
            Assert.Equal(variant.EndsWith("reasoning", StringComparison.Ordinal), system.Contains("Reasoning: ", StringComparison.Ordinal));
            Assert.Equal(variant != "zero-shot", system.Contains("=== Example 3 ===", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Examples_come_from_the_train_split_so_a_confounded_task_shows_confounded_exploits_and_a_held_out_task_never_shows_its_dimension()
    {
        var (confounded, episode) = TestPuzzle();
        var examples = OddOneOutExamples.Select(confounded, episode);

        Assert.Equal(3, examples.Length);
        Assert.All(examples, e => Assert.StartsWith("train-", e.Id, StringComparison.Ordinal));
        Assert.All(examples, e => Assert.True(e.Confounded));
        Assert.Equal(examples.Select(e => e.Id), OddOneOutExamples.Select(confounded, episode).Select(e => e.Id));

        var (heldout, _) = TestPuzzle("odd-one-out-heldout-dimension");
        foreach (var test in Repo.Tasks.LoadEpisodes(heldout, TaskDefinition.TestSplit, 20).Cast<OddOneOutEpisode>())
        {
            Assert.All(OddOneOutExamples.Select(heldout, test), e => Assert.NotEqual(Dimension.Shape, e.Concept));
        }
    }

    [Fact]
    public void The_environments_explanations_are_its_own_words()
    {
        var (_, episode) = TestPuzzle();
        var objects = episode.ExploitObjects;
        var right = OddObject.IndexOf(objects, episode.Answer);
        var wrong = Enumerable.Range(0, 4).First(i => i != right);

        Assert.Equal($"Correct: the concept is {episode.Concept.Name()} and it is uniquely {objects[right].Value(episode.Concept)}",
            OddOneOutExplanations.AfterPick(objects, right, episode.Concept));
        Assert.Equal($"Incorrect: the concept is {episode.Concept.Name()} and other objects are {objects[wrong].Value(episode.Concept)}",
            OddOneOutExplanations.AfterPick(objects, wrong, episode.Concept));
        Assert.Equal("This is a red solid cube", OddOneOutExplanations.Describe(new OddObject("A", "red", "solid", "cube")));
    }
}
