using CausalEval.Core;
using CausalEval.Models.Costs;
using CausalEval.Models.Middleware;

namespace CausalEval.Models.Tests;

/// <summary>run.json's call_policy and the durations plans and options take.</summary>
public class CallPolicyTests
{
    [Theory]
    [InlineData("99999999999999s")]
    [InlineData("1e300")]
    [InlineData("25h")]
    [InlineData("-1s")]
    [InlineData("NaN")]
    public void TryParseDuration_a_duration_beyond_a_day_or_not_a_duration_is_refused(string text)
    {
        Assert.False(CallPolicy.TryParseDuration(text, out _));
    }

    [Theory]
    [InlineData("24h", 86400)]
    [InlineData("500ms", 0.5)]
    [InlineData("10m", 600)]
    public void TryParseDuration_durations_up_to_a_day_are_read(string text, double seconds)
    {
        Assert.True(CallPolicy.TryParseDuration(text, out var value));
        Assert.Equal(seconds, value.TotalSeconds, 9);
    }

    [Fact]
    public void FromJson_a_tampered_timeout_is_bad_input_naming_the_field()
    {
        var json = new CallPolicy().ToJson([]).Replace("\"call_timeout_s\":600", "\"call_timeout_s\":99999999999999", StringComparison.Ordinal);

        var error = Assert.Throws<InputException>(() => CallPolicy.FromJson("run.json:call_policy", json));

        Assert.Contains("call_timeout_s", error.Message);
    }

    [Fact]
    public void FromJson_prices_of_ids_with_settings_are_found_again_with_their_cached_rate()
    {
        var policy = new CallPolicy
        {
            Prices = new PriceTable([new ModelPrice("openai/gpt-4o-mini", 0.15, 0.6, 0.075)], "prices.json"),
            MaxResponseBytes = 4096,
        };
        const string id = "openai/gpt-4o-mini?temperature=0.7&max_tokens=2048";

        var back = CallPolicy.FromJson("run.json:call_policy", policy.ToJson([id, "openai/gpt-4o-mini?temperature=0"]));

        // The cache-write price is kept resolved (the default multiplier applied), so a resumed run prices as it began.
        Assert.Equal(new ModelPrice("openai/gpt-4o-mini", 0.15, 0.6, 0.075, 0.15 * ModelPrice.DefaultCacheWriteMultiplier), back.Prices.Find(id));
        Assert.Equal(4096, back.MaxResponseBytes);
    }
}
