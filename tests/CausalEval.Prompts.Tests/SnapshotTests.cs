using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Templates;

namespace CausalEval.Prompts.Tests;

/// <summary>
/// Every variant rendered for a fixed episode: the whole conversation a scripted model had by its last call (system
/// prompt with the few-shot examples, each experiment's feedback — valid, unreadable, not allowed — and each question).
/// Snapshots live in Snapshots/; review them by eye when a template changes (UPDATE_SNAPSHOTS=1 rewrites them).
/// </summary>
public class SnapshotTests
{
    public static TheoryData<string> Variants => [.. PromptLibrary.StandardVariants];

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Explore_exploit_variant_renders_as_committed(string variant)
    {
        var text = await ExploreExploitConversation(variant, NamingSchemes.Letters);
        Repo.MatchSnapshot($"explore-exploit/{variant}.txt", text);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Passive_exploit_variant_renders_as_committed(string variant)
    {
        var text = await PassiveConversation("passive-exploit-interventional", variant, NamingSchemes.Letters);
        Repo.MatchSnapshot($"passive-exploit/{variant}.txt", text);
    }

    [Theory]
    [InlineData(NamingSchemes.Semantic)]
    [InlineData(NamingSchemes.Nonsense)]
    public async Task Naming_schemes_render_as_committed(string scheme)
    {
        Repo.MatchSnapshot($"explore-exploit/{PromptLibrary.DefaultVariant}.{scheme}.txt", await ExploreExploitConversation(PromptLibrary.DefaultVariant, scheme));
        Repo.MatchSnapshot($"passive-exploit/{PromptLibrary.DefaultVariant}.observational.{scheme}.txt",
            await PassiveConversation("passive-exploit-observational", PromptLibrary.DefaultVariant, scheme));
    }

    /// <summary>explore-exploit test-0000 (target E, structure asked), with a valid, an unreadable and a not-allowed experiment.</summary>
    internal static async Task<string> ExploreExploitConversation(string variant, string scheme)
    {
        var (task, episode) = Repo.TestEpisode("explore-exploit");
        var names = Play.Names(task, episode, scheme);
        string[] script =
        [
            $"ACTION: do({names.Show("A")} = 5)",
            $"I will test {names.Show("B")} next.\nACTION: do({names.Show("B")} = -5)",
            $"ACTION: do({names.Show("C")} = 7)",
            $"I'd like to try {names.Show("D")}.",
            $"ACTION: do({names.Show("E")} = 5)",
            $"ACTION: do({names.Show("C")} = -5)",
            $"EDGES: {names.Show("B")}->{names.Show("A")}, {names.Show("A")}->{names.Show("E")}",
        ];
        var client = new ScriptedChatClient((call, _) => script[call]);
        var transcript = await Play.EpisodeAsync(task, episode, client, variant, scheme);
        return Play.Conversation(client, transcript);
    }

    internal static async Task<string> PassiveConversation(string taskId, string variant, string scheme)
    {
        var (task, episode) = Repo.TestEpisode(taskId);
        var names = Play.Names(task, episode, scheme);
        var client = new ScriptedChatClient((_, _) => $"ACTION: do({names.Show(episode.ExploitVariables[0])} = 5)");
        var transcript = await Play.EpisodeAsync(task, episode, client, variant, scheme);
        return Play.Conversation(client, transcript);
    }
}
