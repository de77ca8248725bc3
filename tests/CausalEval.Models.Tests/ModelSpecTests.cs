using CausalEval.Core;
using CausalEval.Models.Providers;

namespace CausalEval.Models.Tests;

public class ModelSpecTests
{
    [Fact]
    public void Settings_ride_on_the_model_id()
    {
        var (name, settings) = ModelSpec.Parse("gpt-4o-mini?temperature=0.2&max_tokens=512&seed=7", "openai/gpt-4o-mini?…");

        Assert.Equal("gpt-4o-mini", name);
        Assert.Equal(0.2, settings.Temperature);
        Assert.Equal(512, settings.MaxOutputTokens);
        Assert.Equal(7, settings.Seed);
    }

    [Fact]
    public void Defaults_are_temperature_zero_and_a_seed_per_trial_and_none_turns_a_setting_off()
    {
        var (name, defaults) = ModelSpec.Parse("llama3.2:3b", "ollama/llama3.2:3b");
        Assert.Equal("llama3.2:3b", name);
        Assert.Equal((0.0, null, null, true), (defaults.Temperature, defaults.MaxOutputTokens, defaults.Seed, defaults.SeedFromTrial));

        var (_, off) = ModelSpec.Parse("o3-mini?temperature=none&seed=none", "openai/o3-mini?…");
        Assert.Null(off.Temperature);
        Assert.False(off.SeedFromTrial);
    }

    [Theory]
    [InlineData("m?temp=1", "unknown setting 'temp'")]
    [InlineData("m?temperature=hot", "temperature: 'hot' is not a number")]
    [InlineData("m?temperature=3", "temperature: '3' is not a number in [0, 2]")]
    [InlineData("m?max_tokens=0", "max_tokens: '0' is not a whole number")]
    [InlineData("?seed=1", "the model name is missing")]
    public void Bad_settings_are_bad_input(string rest, string message) =>
        Assert.Contains(message, Assert.Throws<InputException>(() => ModelSpec.Parse(rest, "openai/" + rest)).Message);
}
