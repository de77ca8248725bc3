using System.Text.Json.Nodes;
using CausalEval.Prompts.Templates;

namespace CausalEval.Models.Tests;

/// <summary>An LLM over HTTP (the OpenAI wire format, WireMock) plays odd-one-out under every prompt variant.</summary>
public class OddOneOutWireTests
{
    private const string Key = "sk-test-key";

    /// <summary>Tests colour, texture, shape on object A, picks A each time, then answers the exploit pick in markdown.</summary>
    private static string Script(int turn, JsonObject request) => turn switch
    {
        0 => "Let me make A differ in colour.\nACTION: transform(A, colour)",
        2 => "ACTION: transform(A, texture)",
        4 => "ACTION: transform(A, shape)",
        < 6 => "A is the odd one now.\nACTION: pick(A)",
        _ => "**ACTION: pick(B)**",
    };

    [Fact]
    public async Task An_openai_model_plays_all_four_prompt_variants_with_usage_as_billed_and_both_readings_recorded()
    {
        using var fake = FakeProvider.OpenAi(Key, Script);

        var trials = await Trials.RunAsync(new Dictionary<string, string> { ["OPENAI_API_KEY"] = Key, ["OPENAI_BASE_URL"] = fake.Url + "/v1" },
            "openai/gpt-test?max_tokens=300", "odd-one-out-confounded", variants: PromptLibrary.StandardVariants);

        Assert.Equal(PromptLibrary.StandardVariants, trials.Select(t => t["prompt_variant"]!.GetValue<string>()));
        Assert.Equal(4 * 7, fake.Bills.Count);
        for (var v = 0; v < trials.Count; v++)
        {
            var trial = trials[v];
            Assert.True(trial["error"] is null, trial["error"]?.ToJsonString());
            var steps = trial["steps"]!.AsArray();
            Assert.Equal(7, steps.Count);
            Assert.All(steps.Take(6), s => Assert.Equal("valid", s!["status"]!.GetValue<string>()));
            Assert.Equal(["transform", "pick", "transform", "pick", "transform", "pick"], steps.Take(6).Select(s => s!["move"]!["kind"]!.GetValue<string>()));
            Assert.Equal("shape", steps[4]!["move"]!["dimension"]!.GetValue<string>());
            // The markdown exploit: strict fails (a parse failure, scored as a miss), lenient reads pick(B).
            var exploit = steps[6]!;
            Assert.Equal("parse_failure", exploit["status"]!.GetValue<string>());
            Assert.Null(exploit["move"]);
            Assert.Equal("B", exploit["lenient_move"]!["object"]!.GetValue<string>());
            Assert.Equal((0, 1), (trial["scores"]!["optimal_action"]!.GetValue<int>(), trial["scores"]!["parse_failures"]!.GetValue<int>()));
            var bills = fake.Bills.Skip(7 * v).Take(7).ToList();
            Assert.Equal(bills.Select(b => b.InputTokens), steps.Select(s => s!["usage"]!["input_tokens"]!.GetValue<long>()));
            Assert.Equal(bills.Sum(b => b.OutputTokens), trial["usage"]!["output_tokens"]!.GetValue<long>());
            var system = bills[0].Request["messages"]![0]!["content"]!.GetValue<string>();
            Assert.Equal(v > 0, system.Contains("=== Example 3 ===", StringComparison.Ordinal));
            Assert.Equal(v >= 2, system.Contains("Correct: the concept is", StringComparison.Ordinal) || system.Contains("Incorrect: the concept is", StringComparison.Ordinal));
            Assert.Equal(v == 3, system.Contains("Reasoning: ", StringComparison.Ordinal));
        }
    }
}
