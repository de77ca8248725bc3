using System.Text.Json.Nodes;

namespace CausalEval.Models.Tests;

/// <summary>
/// Full episodes through the real SDK clients (OpenAI, Azure.AI.OpenAI, OllamaSharp) against WireMock servers that speak
/// each provider's wire format: the recorded usage of every step is what the server billed for that call.
/// </summary>
public class ProviderWireTests
{
    private const string Key = "sk-test-key";

    /// <summary>explore-exploit test-0000 (target E, structure asked): five experiments, a markdown exploit, the edges.</summary>
    private static string Script(int turn, JsonObject request) => turn switch
    {
        < 5 => $"Testing variable {(char)('A' + turn)}.\nACTION: do({(char)('A' + turn)} = 5)",
        5 => "**ACTION:** do(C = -5)",
        _ => "EDGES: B->A, A->E",
    };

    [Fact]
    public async Task OpenAI_chat_completions_play_a_full_episode_and_usage_is_what_was_billed()
    {
        using var fake = FakeProvider.OpenAi(Key, Script);
        var trials = await Trials.RunAsync(new Dictionary<string, string> { ["OPENAI_API_KEY"] = Key, ["OPENAI_BASE_URL"] = fake.Url + "/v1" },
            "openai/gpt-test?max_tokens=300&seed=11", "explore-exploit");

        var trial = AssertFullEpisode(trials, fake.Bills, "openai/gpt-test?max_tokens=300&seed=11");
        var request = fake.Bills[0].Request;
        Assert.Equal("gpt-test", request["model"]!.GetValue<string>());
        Assert.Equal(0, request["temperature"]!.GetValue<double>());
        Assert.Equal(11, request["seed"]!.GetValue<long>());
        Assert.Equal(300, (request["max_completion_tokens"] ?? request["max_tokens"])!.GetValue<int>());
        Assert.Equal("system", request["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Equal("explore-exploit", trial["task"]!.GetValue<string>());
    }

    [Fact]
    public async Task Azure_OpenAI_uses_the_deployment_path_api_version_and_api_key_header()
    {
        using var fake = FakeProvider.Azure(Key, "my-deployment", "2024-10-21", Script);
        var trials = await Trials.RunAsync(new Dictionary<string, string> { ["AZURE_OPENAI_ENDPOINT"] = fake.Url, ["AZURE_OPENAI_API_KEY"] = Key },
            "azure/my-deployment", "explore-exploit");

        AssertFullEpisode(trials, fake.Bills, "azure/my-deployment");
        var entry = fake.Server.LogEntries.First();
        Assert.Equal($"/openai/deployments/my-deployment/chat/completions", entry.RequestMessage.Path);
        Assert.Equal("2024-10-21", entry.RequestMessage.Query!["api-version"].Single());
        Assert.Equal(Key, entry.RequestMessage.Headers!["api-key"].Single());
        Assert.False(entry.RequestMessage.Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task Ollama_api_chat_streams_NDJSON_and_usage_comes_from_the_done_line()
    {
        using var fake = FakeProvider.Ollama(Script);
        var trials = await Trials.RunAsync(new Dictionary<string, string> { ["OLLAMA_HOST"] = fake.Url }, "ollama/llama-test:3b?temperature=0.5", "explore-exploit");

        AssertFullEpisode(trials, fake.Bills, "ollama/llama-test:3b?temperature=0.5");
        var request = fake.Bills[0].Request;
        Assert.Equal("llama-test:3b", request["model"]!.GetValue<string>());
        Assert.Equal(0.5, request["options"]!["temperature"]!.GetValue<double>(), 6);
        Assert.True(request["options"]!["seed"] is not null, "the trial's seed is sent");
        Assert.True(request["stream"] is null || request["stream"]!.GetValue<bool>(), "the client asks for a streamed answer");
        Assert.Equal("application/x-ndjson", fake.Server.LogEntries.First().ResponseMessage.Headers!["Content-Type"].Single());
    }

    [Fact]
    public async Task OpenAI_compatible_servers_are_reached_at_their_base_url_with_an_optional_key()
    {
        using var fake = FakeProvider.OpenAi("local-key", (turn, _) => turn == 0 ? "ACTION: do(A = 5)" : "none");
        var model = $"openai-compatible/qwen-test@{fake.Url}/v1";
        var trials = await Trials.RunAsync(new Dictionary<string, string> { ["OPENAI_COMPATIBLE_API_KEY"] = "local-key" },
            model, "passive-exploit-interventional", episodes: 2, variants: ["zero-shot", "few-shot"]);

        Assert.Equal(4, trials.Count);
        Assert.Equal(["zero-shot", "zero-shot", "few-shot", "few-shot"], trials.Select(t => t["prompt_variant"]!.GetValue<string>()).Order().Reverse());
        Assert.All(trials, t => Assert.Null(t["error"]));
        Assert.All(trials, t => Assert.Single(t["steps"]!.AsArray()));
        Assert.Equal("qwen-test", fake.Bills[0].Request["model"]!.GetValue<string>());
        Assert.Equal(fake.Bills.Sum(b => b.InputTokens), trials.Sum(t => t["usage"]!["input_tokens"]!.GetValue<long>()));
        Assert.Equal(fake.Bills.Sum(b => b.OutputTokens), trials.Sum(t => t["usage"]!["output_tokens"]!.GetValue<long>()));
    }

    /// <summary>One trial, 7 steps, each step's usage equal to the bill of the call it made; both readings recorded.</summary>
    private static JsonObject AssertFullEpisode(List<JsonObject> trials, IReadOnlyList<Bill> bills, string model)
    {
        var trial = Assert.Single(trials);
        Assert.True(trial["error"] is null, trial["error"]?.ToJsonString());
        Assert.Equal(model, trial["model"]!.GetValue<string>());
        Assert.Equal("few-shot-explanations-reasoning", trial["prompt_variant"]!.GetValue<string>());
        Assert.Equal("letters", trial["naming"]!.GetValue<string>());
        var steps = trial["steps"]!.AsArray();
        Assert.Equal(7, steps.Count);
        Assert.Equal(7, bills.Count);
        for (var i = 0; i < steps.Count; i++)
        {
            Assert.Equal(bills[i].InputTokens, steps[i]!["usage"]!["input_tokens"]!.GetValue<long>());
            Assert.Equal(bills[i].OutputTokens, steps[i]!["usage"]!["output_tokens"]!.GetValue<long>());
            Assert.True(steps[i]!["latency_ms"]!.GetValue<double>() >= 0);
            Assert.NotEmpty(steps[i]!["messages"]!.AsArray());
        }
        Assert.Equal(bills.Sum(b => b.InputTokens), trial["usage"]!["input_tokens"]!.GetValue<long>());
        Assert.Equal(bills.Sum(b => b.OutputTokens), trial["usage"]!["output_tokens"]!.GetValue<long>());

        // Explore steps: valid, strict and lenient agree. The exploit answer is markdown: strict fails, lenient reads it.
        Assert.All(steps.Take(5), s => Assert.Equal("valid", s!["status"]!.GetValue<string>()));
        Assert.Equal("E", steps[4]!["action"]!["variable"]!.GetValue<string>());
        var exploit = steps[5]!;
        Assert.Equal("parse_failure", exploit["status"]!.GetValue<string>());
        Assert.Null(exploit["action"]);
        Assert.Equal("C", exploit["lenient_action"]!["variable"]!.GetValue<string>());
        Assert.Equal(-5, exploit["lenient_action"]!["value"]!.GetValue<double>());
        Assert.Equal("**ACTION:** do(C = -5)", exploit["raw_answer"]!.GetValue<string>());
        Assert.Equal(1, trial["scores"]!["parse_failures"]!.GetValue<int>());
        var structure = steps[6]!;
        Assert.Equal(["B->A", "A->E"], structure["edges"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Equal(["B->A", "A->E"], structure["lenient_edges"]!.AsArray().Select(e => e!.GetValue<string>()));

        // The first step sends the whole prompt; later steps only the feedback and the next question.
        Assert.Equal(["system", "user"], steps[0]!["messages"]!.AsArray().Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal(["user"], steps[1]!["messages"]!.AsArray().Select(m => m!["role"]!.GetValue<string>()));
        Assert.StartsWith("Result of do(A = 5):", steps[1]!["messages"]![0]!["content"]!.GetValue<string>());
        var lastRequest = bills[^1].Request["messages"]!.AsArray();
        Assert.Equal(1 + 7 + 6, lastRequest.Count); // system, 7 questions, 6 earlier answers
        return trial;
    }
}
