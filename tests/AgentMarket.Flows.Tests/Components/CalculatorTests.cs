using AgentMarket.Flows.Components.Tools;
using FsCheck;
using FsCheck.Fluent;

namespace AgentMarket.Flows.Tests.Components;

/// <summary>The calculator's hand-written parser: Python's arithmetic, and nothing that runs code.</summary>
public class CalculatorTests
{
    [Theory]
    [InlineData("4*4*(33/22)+12-20", "16")]
    [InlineData("2 + 3 * 4", "14")]
    [InlineData("(2 + 3) * 4", "20")]
    [InlineData("2 ** 3 ** 2", "512")]
    [InlineData("-2 ** 2", "-4")]
    [InlineData("(-2) ** 2", "4")]
    [InlineData("2 ** -1", "0.5")]
    [InlineData("7 % 3", "1")]
    [InlineData("-7 % 3", "2")]
    [InlineData("7 % -3", "-2")]
    [InlineData("1 / 3", "0.333333")]
    [InlineData("--5", "5")]
    [InlineData("+5 - -5", "10")]
    [InlineData("1.5e3 + .5", "1500.5")]
    [InlineData("10 / 4", "2.5")]
    [InlineData("0.1 + 0.2", "0.3")]
    public void Evaluate_FollowsPythonArithmetic(string expression, string expected) =>
        Assert.Equal(expected, ArithmeticExpression.Format(ArithmeticExpression.Evaluate(expression)));

    [Theory]
    [InlineData("1 / 0")]
    [InlineData("5 % 0")]
    [InlineData("0 ** -1")]
    public void DivisionByZero_IsReportedAsSuch(string expression) =>
        Assert.Throws<DivideByZeroException>(() => ArithmeticExpression.Evaluate(expression));

    [Theory]
    [InlineData("__import__('os').system('id')")]
    [InlineData("open('/etc/passwd').read()")]
    [InlineData("2 + x")]
    [InlineData("(1 + 2")]
    [InlineData("1 + 2)")]
    [InlineData("")]
    [InlineData("1 +")]
    [InlineData("* 3")]
    [InlineData("1 2")]
    [InlineData("(-8) ** 0.5")]
    [InlineData("10 ** 400")]
    public void AnythingButArithmetic_IsRejected(string expression) =>
        Assert.ThrowsAny<ArithmeticException>(() => Evaluate(expression));

    [Fact]
    public void DeepNesting_IsRejectedWithoutExhaustingTheStack()
    {
        var deep = new string('(', 500) + "1" + new string(')', 500);
        var unary = new string('-', 800) + "1";

        Assert.Throws<FormatException>(() => ArithmeticExpression.Evaluate(deep));
        Assert.Throws<FormatException>(() => ArithmeticExpression.Evaluate(unary));
        Assert.Throws<FormatException>(() => ArithmeticExpression.Evaluate(new string('1', 2000)));
    }

    [Fact]
    public void RandomInput_NeverThrowsAnythingButAnArithmeticVerdict() =>
        Prop.ForAll(Arb.From(Gen.Elements("0123456789+-*/%() .e**xabc\n".ToCharArray()).ArrayOf().Select(chars => new string(chars))), text =>
        {
            try
            {
                ArithmeticExpression.Evaluate(text);
            }
            catch (Exception exception) when (exception is FormatException or DivideByZeroException or OverflowException)
            {
                // A verdict, not a crash.
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(2000));

    /// <summary>Parse errors are FormatException, overflow OverflowException: both ArithmeticException or FormatException.</summary>
    static void Evaluate(string expression)
    {
        try
        {
            ArithmeticExpression.Evaluate(expression);
        }
        catch (FormatException exception)
        {
            throw new ArithmeticException(exception.Message, exception);
        }
    }
}
