using System.Text.Json.Nodes;
using CausalEval.Core;
using Microsoft.Extensions.AI;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using CausalEval.Models.Providers;

namespace CausalEval.Models.Tests;

/// <summary>
/// The presets over OpenAI-compatible services (<c>gemini/</c>, <c>openrouter/</c>, <c>groq/</c>, <c>together/</c>,
/// <c>deepseek/</c>, <c>mistral/</c>) through the OpenAI SDK against WireMock servers on loopback reached by each
/// preset's <c>&lt;NAME&gt;_BASE_URL</c> override: key, path, the settings each service takes under its own names, and usage.
/// </summary>
public class PresetTests
{
    private const string Key = "sk-preset-test-key-0123456789";

    public static TheoryData<string> Prefixes => [.. ChatProviders.Presets.Select(p => p.Prefix)];

    private static ServicePreset Preset(string prefix) => ChatProviders.Presets.Single(p => p.Prefix == prefix);

    [Theory]
    [MemberData(nameof(Prefixes))]
    public async Task A_preset_plays_trials_at_its_base_url_with_its_key_and_usage_is_what_was_billed(string prefix)
    {
        var preset = Preset(prefix);
        using var fake = FakeProvider.OpenAi(Key, (turn, _) => turn == 0 ? "ACTION: do(A = 5)" : "none");
        var model = $"{prefix}/test-model?max_tokens=256&seed=9";

        var trials = await Trials.RunAsync(new Dictionary<string, string> { [preset.KeyVariable] = Key, [preset.BaseUrlVariable] = fake.Url + "/v1" },
            model, "passive-exploit-interventional", episodes: 2, variants: ["zero-shot"]);

        Assert.Equal(2, trials.Count);
        Assert.All(trials, t => Assert.True(t["error"] is null, t["error"]?.ToJsonString()));
        Assert.All(trials, t => Assert.Equal(model, t["model"]!.GetValue<string>()));
        Assert.Equal(fake.Bills.Sum(b => b.InputTokens), trials.Sum(t => t["usage"]!["input_tokens"]!.GetValue<long>()));
        Assert.Equal(fake.Bills.Sum(b => b.OutputTokens), trials.Sum(t => t["usage"]!["output_tokens"]!.GetValue<long>()));
        var request = fake.Bills[0].Request;
        Assert.Equal("test-model", request["model"]!.GetValue<string>());
        Assert.Equal(0, request["temperature"]!.GetValue<double>());
        // Each setting arrives under the name the service documents, and only there.
        var maxTokens = preset.Renames.GetValueOrDefault("max_completion_tokens", "max_completion_tokens")!;
        Assert.Equal(256, request[maxTokens]!.GetValue<int>());
        Assert.Equal(maxTokens == "max_tokens", request["max_completion_tokens"] is null);
        var seed = preset.Renames.GetValueOrDefault("seed", "seed")!;
        Assert.Equal(9, request[seed]!.GetValue<long>());
        Assert.Equal(seed == "seed", request["random_seed"] is null);
    }

    [Fact]
    public void Every_preset_has_an_https_default_base_url_and_its_own_variables()
    {
        Assert.Equal(["gemini", "openrouter", "groq", "together", "deepseek", "mistral"], ChatProviders.Presets.Select(p => p.Prefix));
        Assert.All(ChatProviders.Presets, p => Assert.StartsWith("https://", p.DefaultBaseUrl, StringComparison.Ordinal));
        Assert.Equal("GEMINI_API_KEY", Preset("gemini").KeyVariable);
        Assert.Equal("OPENROUTER_BASE_URL", Preset("openrouter").BaseUrlVariable);
        Assert.Equal(ChatProviders.Presets.Count, ChatProviders.Presets.Select(p => p.KeyVariable).Distinct().Count());
        Assert.All(ChatProviders.Presets, p => Assert.Contains(ChatProviders.All, i => i.Prefix == p.Prefix));
    }

    [Fact]
    public async Task Gemini_keeps_the_path_of_its_OpenAI_endpoint()
    {
        // Google's OpenAI-compatible endpoint lives under /v1beta/openai/: the client must post to .../openai/chat/completions.
        Assert.EndsWith("/v1beta/openai/", Preset("gemini").DefaultBaseUrl, StringComparison.Ordinal);
        using var server = WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{AnthropicServer.FreePort()}"] });
        server.Given(Request.Create().WithPath("/v1beta/openai/chat/completions").UsingPost().WithHeader("Authorization", $"Bearer {Key}"))
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(ScriptedServer.Completion("ACTION: do(B = -5)")));
        var environment = new ProviderEnvironment(new Dictionary<string, string>
        {
            ["GEMINI_API_KEY"] = Key,
            ["GEMINI_BASE_URL"] = server.Url + "/v1beta/openai/",
        }.GetValueOrDefault);
        using var client = ChatProviders.CreateClient(environment, "gemini/gemini-2.5-flash");

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "go")]);

        Assert.Equal("ACTION: do(B = -5)", response.Text);
        Assert.Equal("gemini-2.5-flash", JsonNode.Parse(server.LogEntries.Single().RequestMessage.Body!)!["model"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(Prefixes))]
    public void Without_its_key_a_preset_is_bad_input_naming_the_variable(string prefix)
    {
        var error = Assert.Throws<InputException>(() => ChatProviders.CreateClient(new ProviderEnvironment(_ => null), $"{prefix}/m"));

        Assert.Contains(Preset(prefix).KeyVariable, error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_base_url_override_that_is_not_http_is_bad_input_naming_the_variable()
    {
        var environment = new ProviderEnvironment(new Dictionary<string, string> { ["MISTRAL_API_KEY"] = Key, ["MISTRAL_BASE_URL"] = "ftp://x" }.GetValueOrDefault);

        var error = Assert.Throws<InputException>(() => ChatProviders.CreateClient(environment, "mistral/m"));

        Assert.Contains("MISTRAL_BASE_URL", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Models_lists_anthropic_and_every_preset_with_their_variables()
    {
        var (code, stdout, stderr) = Cli.Run(Path.GetTempPath(), new Dictionary<string, string> { ["GROQ_API_KEY"] = Key }, "models");

        Assert.True(code == 0, stderr);
        Assert.DoesNotContain(Key, stdout, StringComparison.Ordinal);
        Assert.Contains("anthropic/<model>", stdout, StringComparison.Ordinal);
        Assert.Matches(@"ANTHROPIC_API_KEY\s+required\s+not set", stdout);
        Assert.Matches(@"GROQ_API_KEY\s+required\s+set\s", stdout);
        foreach (var preset in ChatProviders.Presets)
        {
            Assert.Contains($"{preset.Prefix}/<model>", stdout, StringComparison.Ordinal);
            Assert.Contains(preset.BaseUrlVariable, stdout, StringComparison.Ordinal);
        }
    }
}
