using System.Collections.Immutable;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Templates;
using Microsoft.Extensions.AI;

namespace CausalEval.Prompts.Tests;

/// <summary>
/// Rendering by turn (<see cref="TurnTemplate"/>): every shipped template splits, templates a split could render
/// differently are left whole, and over whole episodes of every family and variant the split rendering sends exactly the
/// conversations the whole rendering sends (checked against a library that renders whole at every step).
/// </summary>
public class TurnTemplateTests
{
    // Split with no whole-rendering check (so the split path alone makes every message), and whole at every step.
    private static readonly LlmAgentSetup SplitOnly = LlmAgentSetup.Create(new PromptLibrary(Repo.Prompts.Root, new HandlebarsPromptTemplateFactory(stepsChecked: 0)));
    private static readonly LlmAgentSetup WholeOnly = LlmAgentSetup.Create(new PromptLibrary(Repo.Prompts.Root, new HandlebarsPromptTemplateFactory(splitByTurn: false)));

    // Valid and invalid answers of both families, unreadable ones, and markup a template must escape.
    private static readonly string[] Answers =
    [
        "ACTION: do(A = 5)", "ACTION: transform(A, colour)", "I am not sure <b>what</b> to do &amp; why.", "ACTION: pick(B)",
        "Let me think.\n\nACTION: do(B = -5)", "ACTION: do(Q = 7)", "EDGES: A->B, B->C", "ACTION: pick(A)  \r\n",
    ];

    public static TheoryData<string, string> FamiliesAndVariants()
    {
        var data = new TheoryData<string, string>();
        foreach (var family in PromptLibrary.Families)
        {
            foreach (var variant in PromptLibrary.StandardVariants)
            {
                data.Add(family, variant);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(FamiliesAndVariants))]
    public void Every_shipped_template_splits_by_turn(string family, string variant)
    {
        var entry = Repo.Prompts.Get(family, variant);

        Assert.NotNull(TurnTemplate.Split(entry.Config.Template));
        Assert.True(entry.Template is ITurnTemplated { Turns.Enabled: true }, $"{family}/{variant} is rendered whole");
    }

    public static TheoryData<string> TaskIds =>
    [
        "explore-exploit", "explore-exploit-heldout-subset", "explore-exploit-heldout-link", "passive-exploit-interventional",
        "passive-exploit-observational", "odd-one-out", "odd-one-out-confounded",
    ];

    [Theory]
    [MemberData(nameof(TaskIds))]
    public async Task Split_rendering_sends_the_conversations_whole_rendering_sends_for_every_variant_and_naming_scheme(string taskId)
    {
        var task = Repo.Tasks.Load(taskId);
        var episodes = Repo.Tasks.LoadEpisodes(task, TaskDefinition.TestSplit, 3).ToList();
        foreach (var variant in PromptLibrary.StandardVariants)
        {
            foreach (var scheme in new[] { NamingSchemes.Letters, NamingSchemes.Semantic })
            {
                foreach (var episode in episodes)
                {
                    var split = await PlayAsync(SplitOnly, task, episode, variant, scheme);
                    var whole = await PlayAsync(WholeOnly, task, episode, variant, scheme);

                    Assert.Equal(whole.Count, split.Count);
                    for (var call = 0; call < whole.Count; call++)
                    {
                        Assert.Equal(whole[call], split[call]);
                    }
                }
                var family = task.Family;
                Assert.True(SplitOnly.Prompts.Get(family, variant).Template is ITurnTemplated { Turns.Enabled: true }, $"{family}/{variant} fell back to whole rendering");
            }
        }
    }

    public static TheoryData<string> DagTaskIds =>
    [
        "explore-exploit", "explore-exploit-heldout-subset", "explore-exploit-heldout-link", "passive-exploit-interventional",
        "passive-exploit-observational",
    ];

    [Theory]
    [MemberData(nameof(DagTaskIds))]
    public async Task The_trials_of_an_episode_render_its_head_once_and_send_what_whole_rendering_sends(string taskId)
    {
        var task = Repo.Tasks.Load(taskId);
        var episode = Repo.Tasks.LoadEpisodes(task, TaskDefinition.TestSplit, 1).Single();
        var shared = LlmAgentSetup.Create(new PromptLibrary(Repo.Prompts.Root, new HandlebarsPromptTemplateFactory(stepsChecked: 0)));
        foreach (var variant in PromptLibrary.StandardVariants)
        {
            // Two epochs of the episode with other answers and noise, then another naming scheme: each as whole rendering sends it.
            (int Epoch, string Scheme)[] trials = [(1, NamingSchemes.Letters), (2, NamingSchemes.Letters), (3, NamingSchemes.Semantic)];
            var heads = new List<PromptMessage>();
            foreach (var (epoch, scheme) in trials)
            {
                var (split, steps) = await PlayTrialAsync(shared, task, episode, variant, scheme, epoch);
                var (whole, _) = await PlayTrialAsync(WholeOnly, task, episode, variant, scheme, epoch);

                Assert.Equal(whole, split);
                heads.Add(steps.Steps[0].Decision.Messages[0]);
            }
            Assert.Same(heads[0], heads[1]); // the second epoch's head is the first one's, not rendered again
            Assert.NotSame(heads[0], heads[2]); // rendered for the other names (the same text when it shows no names)
        }
    }

    [Theory]
    [InlineData("explore-exploit")]
    [InlineData("explore-exploit-heldout-subset")]
    public async Task Feedback_kept_across_a_trials_steps_renders_as_feedback_built_anew(string taskId)
    {
        var (task, episode) = Repo.TestEpisode(taskId);
        var entry = Repo.Prompts.Get(task.Family, PromptLibrary.DefaultVariant);
        var agent = new ComparingAgent(entry, Play.Names(task, episode, NamingSchemes.Letters));

        await EpisodeEngine.RunAsync(episode, agent, 7);

        Assert.True(agent.Compared > 3, $"compared {agent.Compared} steps");
    }

    /// <summary>At every step renders the whole conversation from arguments built with the trial's feedback memo and without, and compares.</summary>
    private sealed class ComparingAgent(PromptTemplateEntry entry, NameMap names) : IAgent
    {
        private static readonly Microsoft.SemanticKernel.Kernel Kernel = new();
        private readonly PromptArguments.FeedbackMemo _memo = new();
        private readonly List<string> _answers = [];

        public int Compared { get; private set; }

        public async ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
        {
            var kept = PromptArguments.Build(entry.Family, view, names, [], _answers, feedback: _memo);
            var anew = PromptArguments.Build(entry.Family, view, names, [], _answers);
            Assert.Equal(await entry.Template.RenderAsync(Kernel, anew, cancellationToken), await entry.Template.RenderAsync(Kernel, kept, cancellationToken));
            Compared++;
            var brief = view.Brief;
            var step = view.History.Count;
            // Valid and invalid actions in turn, so the feedback shows results and errors.
            var action = new Core.Worlds.Intervention(step % 3 == 1 ? "Q" : brief.ExploreVariables[step % brief.ExploreVariables.Length],
                brief.AllowedValues[step % brief.AllowedValues.Length]);
            _answers.Add($"answer {step}");
            return view.Phase == Phase.Structure
                ? new AgentDecision { RawAnswer = _answers[^1], Edges = [] }
                : new AgentDecision { RawAnswer = _answers[^1], Action = action };
        }
    }

    [Fact]
    public void The_head_cache_renders_a_key_once_keeps_no_failure_and_starts_again_when_full()
    {
        var cache = new HeadCache();
        var entry = Repo.Prompts.Get(TaskDefinition.ExploreExploitFamily, PromptLibrary.DefaultVariant);
        var (task, episode) = Repo.TestEpisode("explore-exploit");
        var renders = 0;
        ImmutableArray<PromptMessage> Render() => [new PromptMessage("system", $"head {++renders}")];

        var first = cache.GetOrAdd(new HeadCache.Key(entry, episode, task, NamingSchemes.Letters), Render);
        var again = cache.GetOrAdd(new HeadCache.Key(entry, episode, task, NamingSchemes.Letters), Render);
        var otherNames = cache.GetOrAdd(new HeadCache.Key(entry, episode, task, NamingSchemes.Semantic), Render);
        Assert.Throws<FormatException>(() => cache.GetOrAdd(new HeadCache.Key(entry, episode, null, NamingSchemes.Letters), () => throw new FormatException("bad")));

        Assert.Equal("head 1", Assert.Single(first).Content);
        Assert.Equal(first, again);
        Assert.Equal("head 2", Assert.Single(otherNames).Content);
        Assert.Equal(2, cache.Count);
        for (var i = 0; i < HeadCache.Capacity; i++)
        {
            cache.GetOrAdd(new HeadCache.Key(entry, episode, task, $"scheme {i}"), Render);
        }
        Assert.InRange(cache.Count, 1, HeadCache.Capacity);
    }

    /// <summary>Every call's conversation, as role and text lines.</summary>
    private static async Task<List<string>> PlayAsync(LlmAgentSetup setup, TaskDefinition task, TaskEpisode episode, string variant, string scheme) =>
        (await PlayTrialAsync(setup, task, episode, variant, scheme, 1)).Calls;

    /// <summary>Every call's conversation, as role and text lines, and the transcript; the epoch shifts the answers and the noise.</summary>
    private static async Task<(List<string> Calls, EpisodeTranscript Transcript)> PlayTrialAsync(LlmAgentSetup setup, TaskDefinition task, TaskEpisode episode,
        string variant, string scheme, int epoch)
    {
        var client = new ScriptedChatClient((call, _) => Answers[(call + epoch - 1) % Answers.Length]);
        var agent = LlmAgent.Factory(client, setup, ModelSettings.Default)(new TrialContext("trial", episode, epoch, 42, variant, scheme, task));
        var transcript = episode is OddOneOutEpisode puzzle
            ? await OddOneOutEngine.RunAsync(puzzle, agent)
            : await EpisodeEngine.RunAsync((Episode)episode, agent, 6UL + (ulong)epoch);
        Assert.All(transcript.Steps, s => Assert.False(s.Decision.Messages.IsDefaultOrEmpty));
        return ([.. client.Requests.Select(r => string.Join("\n", r.Select(m => $"[{m.Role}] {m.Text}")))], transcript);
    }

    public static TheoryData<string, string> Unsplittable => new()
    {
        { "@last in a turn", Template("{{#unless @last}}(earlier){{/unless}}") },
        { "a turn reads the step's phase", Template("{{../phase}}") },
        { "a turn reads the whole list", Template("{{#each ../turns}}{{number}}{{/each}}") },
        { "a turn reads the root", Template("{{@root.family}}") },
        { "a parent without a path", Template("{{lookup .. \"phase\"}}") },
        { "the head reads the phase", "<message role=\"system\">{{phase}}</message>\n{{#each turns}}<message role=\"user\">{{number}}</message>{{/each}}\n" },
        { "the head reads the turns", "<message role=\"system\">{{turns.length}}</message>\n{{#each turns}}<message role=\"user\">{{number}}</message>{{/each}}\n" },
        { "text after the turns", Template("{{number}}") + "<message role=\"user\">Go on.</message>\n" },
        { "the each has an else", "{{#each turns}}<message role=\"user\">{{number}}</message>{{else}}<message role=\"user\">none</message>{{/each}}\n" },
        { "the turns inside another block", "{{#if family}}{{#each turns}}<message role=\"user\">{{number}}</message>{{/each}}{{/if}}\n" },
        { "whitespace control", "{{~#each turns~}}<message role=\"user\">{{number}}</message>{{/each}}\n" },
        { "block parameters", "{{#each turns as |turn|}}<message role=\"user\">{{turn.number}}</message>{{/each}}\n" },
        { "no turns at all", "<message role=\"user\">{{phase}}</message>\n" },
        { "an unbalanced block", "{{#if family}}{{#each turns}}<message role=\"user\">{{number}}</message>{{/each}}\n" },
        { "turns looped twice", Template("{{number}}") + "{{#each turns}}<message role=\"user\">again</message>{{/each}}\n" },
    };

    [Theory]
    [MemberData(nameof(Unsplittable))]
    public void Templates_a_split_could_render_differently_are_rendered_whole(string @case, string template)
    {
        Assert.True(TurnTemplate.Split(template) is null, $"{@case}: split");
    }

    [Fact]
    public void The_turn_template_keeps_the_heads_inline_partials_and_skips_the_turns_left_out()
    {
        var template = "{{#*inline \"ask\"}}Answer {{number}}.{{/inline}}\n<message role=\"system\">{{intro}}</message>\n"
            + "{{#each turns}}\n<message role=\"user\">{{#if @first}}First. {{/if}}{{> ask}} of {{../count}}</message>\n{{/each}}\n";

        var (head, turns) = TurnTemplate.Split(template)!.Value;

        Assert.Equal(template[..template.IndexOf("{{#each turns}}", StringComparison.Ordinal)], head);
        Assert.Equal("{{#*inline \"ask\"}}Answer {{number}}.{{/inline}}\n{{#each turns}}{{#if this}}\n<message role=\"user\">{{#if @first}}First. {{/if}}{{> ask}} of {{../count}}</message>\n{{/if}}{{/each}}", turns);

        var split = TurnTemplate.TrySplit(template, text =>
        {
            var compiled = HandlebarsDotNet.Handlebars.Create().Compile(text);
            return context => compiled(context);
        })!;
        var arguments = new Dictionary<string, object?> { ["intro"] = "Hello", ["count"] = 3 };
        List<Dictionary<string, object?>?> all = [new() { ["number"] = 1 }, new() { ["number"] = 2 }, new() { ["number"] = 3 }];
        Assert.Equal("<message role=\"user\">First. Answer 1. of 3</message>", split.RenderTurn(arguments, all, 0).Trim());
        Assert.Equal("<message role=\"user\">Answer 2. of 3</message>", split.RenderTurn(arguments, all, 1).Trim());
        Assert.Equal("<message role=\"system\">Hello</message>", split.RenderHead(arguments).Trim());
    }

    public static TheoryData<string, string> MisbehavingTemplates => new()
    {
        // Every turn shows the exploit variables, which change when the goal is revealed: an earlier message changes.
        { "an earlier turn changes", Template("Goal variables: {{join exploit_variables \", \"}}.") },
        // All turns in one user message: the head leaves a message open, so the split cannot be used.
        { "one message for every turn", "<message role=\"system\">Play.</message>\n<message role=\"user\">\n{{#each turns}}\nStep {{number}}.\n{{/each}}\n</message>\n" },
        // A turn's question outside any message.
        { "a turn outside any message", "<message role=\"system\">Play.</message>\n{{#each turns}}\nStep {{number}}?\n{{/each}}\n" },
    };

    [Theory]
    [MemberData(nameof(MisbehavingTemplates))]
    public async Task A_template_the_split_cannot_render_fails_or_plays_as_it_does_whole(string @case, string template)
    {
        var root = Path.Combine(Path.GetTempPath(), $"causaleval-turns-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(root, TaskDefinition.ExploreExploitFamily));
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, TaskDefinition.ExploreExploitFamily, "custom.yaml"),
                "template_format: handlebars\ntemplate: |\n" + string.Join("\n", template.Split('\n').Select(l => "  " + l)) + "\n");
            var split = LlmAgentSetup.Create(new PromptLibrary(root, new HandlebarsPromptTemplateFactory(stepsChecked: 0)));
            var whole = LlmAgentSetup.Create(new PromptLibrary(root, new HandlebarsPromptTemplateFactory(splitByTurn: false)));
            var (task, episode) = Repo.TestEpisode("explore-exploit");

            var expected = await OutcomeAsync(whole, task, episode);
            var actual = await OutcomeAsync(split, task, episode);

            Assert.True(expected == actual, $"{@case}: whole\n{expected}\nsplit\n{actual}");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<string> OutcomeAsync(LlmAgentSetup setup, TaskDefinition task, TaskEpisode episode)
    {
        try
        {
            return string.Join("\n---\n", await PlayAsync(setup, task, episode, "custom", NamingSchemes.Letters));
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            return $"failed: {ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>A system message, then one user message per turn with <paramref name="turn"/> in it, and each answer.</summary>
    private static string Template(string turn) =>
        "<message role=\"system\">Play.</message>\n{{#each turns}}\n<message role=\"user\">" + turn + " Step {{number}}.</message>\n"
        + "{{#if has_answer}}<message role=\"assistant\">{{answer}}</message>{{/if}}\n{{/each}}\n";
}
