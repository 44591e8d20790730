"""Everyday calculators: money, health, cooking, travel and scheduling.

The bundled sample of tools written as Python functions, part of the default round's
sources (``py:inftool_dagster.sample_tools.everyday``) beside the bundled API specs. Every
public function is a working calculator; ``inftool catalog build`` turns its type hints into
the tool's JSON Schema and its docstring (Google, NumPy or reST style) into descriptions.
Importing the module only defines names.
"""

import math
import statistics
from enum import Enum, StrEnum
from typing import Annotated, Literal, NotRequired

from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # the TypedDict pydantic validates on Python 3.11 (validate_call)

EARTH_RADIUS_KM = 6371.0088
KM_PER_MILE = 1.609344
KCAL_PER_KG_OF_BODY_FAT = 7700
VOLUMETRIC_DIVISOR_CM3_PER_KG = 5000  # courier convention: L x W x H (cm) / 5000 = kg


# -- money -----------------------------------------------------------------------------
class LoanSummary(TypedDict):
    """Repayment figures of an amortised loan."""

    monthly_payment: float
    months: int
    total_paid: float
    total_interest: float


def monthly_loan_payment(
    principal: Annotated[float, Field(gt=0)],
    annual_rate_percent: Annotated[float, Field(ge=0, le=100)],
    years: Annotated[int, Field(ge=1, le=50)],
    extra_monthly_payment: Annotated[float, Field(ge=0)] = 0.0,
) -> LoanSummary:
    """Work out the fixed monthly repayment of an amortised loan.

    With an extra payment every month the loan is repaid sooner; the summary then counts the
    months actually needed and the interest actually paid.

    Args:
        principal: Amount borrowed, in the loan's currency.
        annual_rate_percent: Nominal yearly interest rate in percent, e.g. 4.5.
        years: Term of the loan in years.
        extra_monthly_payment: Amount paid on top of the required instalment each month.

    Returns:
        The required monthly payment, the months until the loan is repaid and the totals paid.
    """
    months = years * 12
    rate = annual_rate_percent / 100 / 12
    payment = principal / months if rate == 0 else principal * rate / (1 - (1 + rate) ** -months)
    balance, paid, month = principal, 0.0, 0
    while balance > 0.005 and month < months:
        interest = balance * rate
        instalment = min(balance + interest, payment + extra_monthly_payment)
        balance = balance + interest - instalment
        paid += instalment
        month += 1
    return {
        "monthly_payment": round(payment, 2),
        "months": month,
        "total_paid": round(paid, 2),
        "total_interest": round(paid - principal, 2),
    }


class SavingsYear(TypedDict):
    """The state of a savings account at the end of one year."""

    year: int
    balance: float
    contributed: float
    interest_earned: float


def savings_growth(
    initial_deposit: Annotated[float, Field(ge=0)],
    annual_rate_percent: Annotated[float, Field(ge=0, le=50)],
    years: Annotated[int, Field(ge=1, le=60)],
    compounds_per_year: Literal[1, 2, 4, 12, 365] = 12,
    monthly_contribution: Annotated[float, Field(ge=0)] = 0.0,
) -> list[SavingsYear]:
    """Project the balance of a savings account with compound interest, year by year.

    Args:
        initial_deposit: Money in the account at the start.
        annual_rate_percent: Nominal yearly interest rate in percent.
        years: How many years to project.
        compounds_per_year: How often interest is credited: yearly (1), half-yearly (2),
            quarterly (4), monthly (12) or daily (365).
        monthly_contribution: Amount added at the start of every month.

    Returns:
        One entry per year with the balance, the money paid in so far and the interest earned so far.
    """
    monthly_rate = (1 + annual_rate_percent / 100 / compounds_per_year) ** (compounds_per_year / 12) - 1
    balance = contributed = initial_deposit
    rows: list[SavingsYear] = []
    for year in range(1, years + 1):
        for _ in range(12):
            balance += monthly_contribution
            contributed += monthly_contribution
            balance *= 1 + monthly_rate
        rows.append(
            {
                "year": year,
                "balance": round(balance, 2),
                "contributed": round(contributed, 2),
                "interest_earned": round(balance - contributed, 2),
            }
        )
    return rows


def split_bill(
    total: Annotated[float, Field(gt=0)],
    people: Annotated[list[str], Field(min_length=1)],
    tip_percent: Annotated[float, Field(ge=0, le=100)] = 15.0,
    shares: dict[str, float] | None = None,
) -> dict[str, float]:
    """Split a restaurant bill, tip included, among the people at the table.

    Amounts are rounded to cents and the rounding remainder goes to the first person, so the
    parts always add up to the bill plus tip.

    Args:
        total: The bill before the tip.
        people: Names of everyone paying.
        tip_percent: Tip as a percentage of the bill.
        shares: Relative weight of each person's part (e.g. ``{"Ana": 2}`` for someone who
            ordered twice as much); people not listed count 1. Equal parts when omitted.

    Returns:
        What each person pays.
    """
    weights = {name: (shares or {}).get(name, 1.0) for name in people}
    total_weight = sum(weights.values()) or float(len(weights))
    grand_total_cents = round(total * (1 + tip_percent / 100) * 100)
    cents = {name: int(grand_total_cents * weight / total_weight) for name, weight in weights.items()}
    cents[people[0]] += grand_total_cents - sum(cents.values())
    return {name: value / 100 for name, value in cents.items()}


# -- health ----------------------------------------------------------------------------
class BmiReading(BaseModel):
    """A body-mass index with its adult category (WHO cut-offs)."""

    bmi: float = Field(description="Weight divided by the square of height, in kg/m².")
    category: Literal["underweight", "healthy", "overweight", "obese"]
    healthy_weight_range_kg: tuple[float, float] = Field(
        description="Lowest and highest weight with a healthy BMI at this height."
    )


def body_mass_index(
    weight_kg: Annotated[float, Field(gt=0, lt=700)],
    height_cm: Annotated[float, Field(gt=30, lt=300)],
) -> BmiReading:
    """Compute an adult's body-mass index and its category.

    The healthy range is the BMI band 18.5-24.9 expressed as weights at the given height.

    :param weight_kg: Body weight in kilograms.
    :param height_cm: Standing height in centimetres.
    :returns: The BMI rounded to one decimal, its category and the healthy weight range.
    """
    metres = height_cm / 100
    bmi = weight_kg / metres**2
    if bmi < 18.5:
        category = "underweight"
    elif bmi < 25:
        category = "healthy"
    elif bmi < 30:
        category = "overweight"
    else:
        category = "obese"
    healthy = (round(18.5 * metres**2, 1), round(24.9 * metres**2, 1))
    return BmiReading(bmi=round(bmi, 1), category=category, healthy_weight_range_kg=healthy)


class ActivityLevel(Enum):
    """How active someone is on a typical day."""

    SEDENTARY = "sedentary"
    LIGHT = "light"
    MODERATE = "moderate"
    ACTIVE = "active"
    VERY_ACTIVE = "very_active"


_ACTIVITY_FACTOR = {
    ActivityLevel.SEDENTARY: 1.2,
    ActivityLevel.LIGHT: 1.375,
    ActivityLevel.MODERATE: 1.55,
    ActivityLevel.ACTIVE: 1.725,
    ActivityLevel.VERY_ACTIVE: 1.9,
}


def daily_calorie_target(
    weight_kg: Annotated[float, Field(gt=20, lt=400)],
    height_cm: Annotated[float, Field(gt=100, lt=250)],
    age_years: Annotated[int, Field(ge=18, le=100)],
    sex: Literal["female", "male"],
    activity: ActivityLevel = ActivityLevel.MODERATE,
    weekly_change_kg: Annotated[float, Field(ge=-1, le=1)] = 0.0,
) -> dict[str, int]:
    """Estimate daily energy needs and a calorie target for a weight goal.

    Uses the Mifflin-St Jeor equation for the resting rate, an activity factor for
    maintenance, and 7,700 kcal per kilogram of body weight gained or lost.

    Parameters
    ----------
    weight_kg : float
        Current body weight in kilograms.
    height_cm : float
        Height in centimetres.
    age_years : int
        Age in whole years.
    sex : {"female", "male"}
        Sex used by the equation.
    activity : ActivityLevel
        Typical daily activity.
    weekly_change_kg : float
        Desired change per week: negative to lose weight, positive to gain.

    Returns
    -------
    dict
        ``bmr`` (resting), ``maintenance`` and ``target`` calories per day.
    """
    bmr = 10 * weight_kg + 6.25 * height_cm - 5 * age_years + (5 if sex == "male" else -161)
    maintenance = bmr * _ACTIVITY_FACTOR[ActivityLevel(activity)]
    target = max(1200.0, maintenance + weekly_change_kg * KCAL_PER_KG_OF_BODY_FAT / 7)
    return {"bmr": round(bmr), "maintenance": round(maintenance), "target": round(target)}


# -- numbers and units -----------------------------------------------------------------
class NumberSummary(TypedDict):
    """Descriptive statistics of a list of numbers."""

    count: int
    mean: float
    median: float
    stdev: float
    minimum: float
    maximum: float
    percentiles: dict[str, float]


def describe_numbers(
    values: Annotated[list[float], Field(min_length=1)],
    percentiles: tuple[float, ...] = (25.0, 50.0, 75.0),
    sample: bool = True,
) -> NumberSummary:
    """Summarise a list of numbers: count, mean, median, spread and percentiles.

    Parameters
    ----------
    values : list of float
        The numbers to describe.
    percentiles : tuple of float
        Percentiles to report, each between 0 and 100 (linear interpolation).
    sample : bool
        Standard deviation of a sample (n - 1) rather than of a whole population.

    Returns
    -------
    NumberSummary
        The statistics; ``percentiles`` is keyed by the percentile, e.g. ``"p90"``.
    """
    ordered = sorted(values)
    if len(ordered) < 2:
        spread = 0.0
    else:
        spread = statistics.stdev(ordered) if sample else statistics.pstdev(ordered)
    return {
        "count": len(ordered),
        "mean": statistics.fmean(ordered),
        "median": statistics.median(ordered),
        "stdev": spread,
        "minimum": ordered[0],
        "maximum": ordered[-1],
        "percentiles": {f"p{p:g}": _percentile(ordered, p) for p in percentiles},
    }


def _percentile(ordered: list[float], percent: float) -> float:
    position = (len(ordered) - 1) * min(max(percent, 0.0), 100.0) / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class LengthUnit(StrEnum):
    """Units of length."""

    MILLIMETRE = "mm"
    CENTIMETRE = "cm"
    METRE = "m"
    KILOMETRE = "km"
    INCH = "in"
    FOOT = "ft"
    YARD = "yd"
    MILE = "mi"


_METRES_PER_UNIT = {
    LengthUnit.MILLIMETRE: 0.001,
    LengthUnit.CENTIMETRE: 0.01,
    LengthUnit.METRE: 1.0,
    LengthUnit.KILOMETRE: 1000.0,
    LengthUnit.INCH: 0.0254,
    LengthUnit.FOOT: 0.3048,
    LengthUnit.YARD: 0.9144,
    LengthUnit.MILE: KM_PER_MILE * 1000,
}


def convert_length(
    value: float,
    from_unit: LengthUnit,
    to_unit: LengthUnit,
    decimals: Annotated[int, Field(ge=0, le=12)] = 4,
) -> float:
    """Convert a length between metric and imperial units.

    :param value: The length to convert, expressed in ``from_unit``.
    :param from_unit: The unit the value is given in.
    :param to_unit: The unit to express the value in.
    :param decimals: Digits kept after the decimal point.
    :returns: The length in ``to_unit``.
    """
    metres = value * _METRES_PER_UNIT[LengthUnit(from_unit)]
    return round(metres / _METRES_PER_UNIT[LengthUnit(to_unit)], decimals)


# -- cooking and home --------------------------------------------------------------------
class Ingredient(TypedDict):
    """One line of a recipe."""

    name: str
    quantity: float
    unit: str


def scale_recipe(
    ingredients: Annotated[list[Ingredient], Field(min_length=1)],
    servings: Annotated[int, Field(ge=1, le=500)],
    target_servings: Annotated[int, Field(ge=1, le=500)],
    decimals: Annotated[int, Field(ge=0, le=3)] = 2,
) -> list[Ingredient]:
    """Scale a recipe's ingredient quantities to a different number of servings.

    Parameters
    ----------
    ingredients : list of Ingredient
        The recipe's ingredients, each with a name, a quantity and a unit.
    servings : int
        How many servings the recipe makes as written.
    target_servings : int
        How many servings to make.
    decimals : int
        Digits kept after the decimal point in the scaled quantities.

    Returns
    -------
    list of Ingredient
        The same ingredients with scaled quantities, in the same order.
    """
    factor = target_servings / servings
    return [
        {"name": item["name"], "quantity": round(item["quantity"] * factor, decimals), "unit": item["unit"]}
        for item in ingredients
    ]


def wall_paint_estimate(
    walls: Annotated[list[tuple[float, float]], Field(min_length=1)],
    coats: Annotated[int, Field(ge=1, le=5)] = 2,
    coverage_m2_per_litre: Annotated[float, Field(gt=0)] = 10.0,
    openings_m2: Annotated[float, Field(ge=0)] = 0.0,
    can_size_litres: Annotated[float, Field(gt=0)] = 2.5,
) -> dict[str, float]:
    """Estimate how much paint a room's walls need, and how many cans to buy.

    Args:
        walls: Each wall as ``[width, height]`` in metres.
        coats: Number of coats to apply.
        coverage_m2_per_litre: Area one litre covers, from the paint's label.
        openings_m2: Total area of doors and windows left unpainted, in square metres.
        can_size_litres: Size of one can of paint.

    Returns:
        The paintable area (m²), the litres needed and the number of cans.
    """
    area = max(0.0, sum(width * height for width, height in walls) - openings_m2)
    litres = area * coats / coverage_m2_per_litre
    return {"area_m2": round(area, 2), "litres": round(litres, 2), "cans": float(math.ceil(litres / can_size_litres))}


# -- travel and logistics ----------------------------------------------------------------
class Waypoint(BaseModel):
    """A point on the Earth's surface, in decimal degrees."""

    latitude: float = Field(ge=-90, le=90, description="Degrees north of the equator (negative: south).")
    longitude: float = Field(ge=-180, le=180, description="Degrees east of Greenwich (negative: west).")
    label: str | None = Field(default=None, description="An optional name for the stop.")


class RouteLength(TypedDict):
    """The length of a route and of each of its legs."""

    total: float
    legs: list[float]
    unit: Literal["km", "mi"]


def route_length(
    waypoints: Annotated[list[Waypoint], Field(min_length=2)],
    unit: Literal["km", "mi"] = "km",
    round_trip: bool = False,
) -> RouteLength:
    """Measure a route through a list of waypoints along great circles.

    Parameters
    ----------
    waypoints : list of Waypoint
        The stops in travel order, at least two.
    unit : {"km", "mi"}
        Unit of the distances returned.
    round_trip : bool
        Add the leg from the last stop back to the first.

    Returns
    -------
    RouteLength
        The total distance and the distance of every leg, rounded to 0.1.
    """
    points = [Waypoint.model_validate(w) for w in waypoints]
    if round_trip:
        points.append(points[0])
    legs = [_haversine_km(a, b) for a, b in zip(points, points[1:])]
    scale = 1 / KM_PER_MILE if unit == "mi" else 1.0
    return {"total": round(sum(legs) * scale, 1), "legs": [round(leg * scale, 1) for leg in legs], "unit": unit}


def _haversine_km(a: Waypoint, b: Waypoint) -> float:
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def trip_fuel_cost(
    distance_km: Annotated[float, Field(gt=0)],
    litres_per_100km: Annotated[float, Field(gt=0, le=50)],
    price_per_litre: Annotated[float, Field(gt=0)],
    passengers: Annotated[int, Field(ge=1, le=9)] = 1,
    return_trip: bool = False,
) -> dict[str, float]:
    """Work out the fuel used by a car journey, what it costs and each passenger's share.

    :param distance_km: One-way distance of the journey in kilometres.
    :param litres_per_100km: The car's fuel consumption.
    :param price_per_litre: Price of one litre of fuel.
    :param passengers: People sharing the cost, the driver included.
    :param return_trip: Count the journey back as well.
    :returns: ``litres``, ``cost`` and ``cost_per_person``.
    """
    distance = distance_km * (2 if return_trip else 1)
    litres = distance * litres_per_100km / 100
    cost = litres * price_per_litre
    return {"litres": round(litres, 2), "cost": round(cost, 2), "cost_per_person": round(cost / passengers, 2)}


class ShippingZone(StrEnum):
    """Where a parcel goes, seen from the sender's country."""

    DOMESTIC = "domestic"
    NEIGHBOURING = "neighbouring"
    CONTINENTAL = "continental"
    INTERCONTINENTAL = "intercontinental"


class Parcel(BaseModel):
    """A box to ship: its outer dimensions and actual weight."""

    length_cm: float = Field(gt=0, le=300, description="Longest side in centimetres.")
    width_cm: float = Field(gt=0, le=300, description="Second side in centimetres.")
    height_cm: float = Field(gt=0, le=300, description="Third side in centimetres.")
    weight_kg: float = Field(gt=0, le=70, description="Actual weight in kilograms.")


class ShippingQuote(BaseModel):
    """A courier's price for one parcel."""

    billable_weight_kg: float = Field(description="The greater of actual and volumetric weight, to the next 0.5 kg.")
    price: float
    currency: Literal["EUR"] = "EUR"
    delivery_days: tuple[int, int] = Field(description="Fewest and most working days to delivery.")


_ZONE_RATES = {  # base price, price per billable kg, (fewest, most) working days
    ShippingZone.DOMESTIC: (4.5, 0.9, (1, 3)),
    ShippingZone.NEIGHBOURING: (9.0, 1.6, (2, 5)),
    ShippingZone.CONTINENTAL: (14.0, 2.4, (3, 7)),
    ShippingZone.INTERCONTINENTAL: (28.0, 6.5, (5, 12)),
}


def parcel_shipping_quote(
    parcel: Parcel,
    zone: ShippingZone,
    express: bool = False,
    insured_value: Annotated[float, Field(ge=0)] | None = None,
) -> ShippingQuote:
    """Quote the price of shipping a parcel, charged by actual or volumetric weight.

    Volumetric weight is length x width x height / 5000; the greater weight is billed.

    :param parcel: The box: dimensions and weight.
    :param zone: Destination zone.
    :param express: Faster delivery at 60 % more.
    :param insured_value: Declared value to insure (1 %, at least 2.00); no insurance when omitted.
    :returns: The billable weight, the price in euros and the delivery window.
    """
    box = Parcel.model_validate(parcel)
    volumetric = box.length_cm * box.width_cm * box.height_cm / VOLUMETRIC_DIVISOR_CM3_PER_KG
    billable = math.ceil(max(box.weight_kg, volumetric) * 2) / 2
    base, per_kg, (fewest, most) = _ZONE_RATES[ShippingZone(zone)]
    price = base + per_kg * billable
    if express:
        price *= 1.6
        fewest, most = max(1, fewest // 2), max(1, most // 2)
    if insured_value:
        price += max(2.0, insured_value * 0.01)
    return ShippingQuote(billable_weight_kg=billable, price=round(price, 2), delivery_days=(fewest, most))


class Attendee(TypedDict):
    """Someone invited to a meeting, and their working day in local time."""

    name: str
    utc_offset_hours: float
    workday_start_hour: NotRequired[int]
    workday_end_hour: NotRequired[int]


def meeting_time_options(
    attendees: Annotated[list[Attendee], Field(min_length=1)],
    duration_minutes: Annotated[int, Field(ge=15, le=480)] = 60,
    step_minutes: Literal[15, 30, 60] = 30,
) -> list[str]:
    """Find meeting start times that fall inside every attendee's working day.

    Args:
        attendees: Everyone invited, each with a UTC offset in hours (e.g. -5 or 5.5) and
            optionally their working hours in local time (9 to 17 when omitted).
        duration_minutes: Length of the meeting.
        step_minutes: Spacing of the candidate start times.

    Returns:
        Start times in UTC as "HH:MM", earliest first; empty when no time suits everyone.
    """
    options = []
    for start in range(0, 24 * 60, step_minutes):
        for person in attendees:
            local = (start + round(person["utc_offset_hours"] * 60)) % (24 * 60)
            opens = person.get("workday_start_hour", 9) * 60
            closes = person.get("workday_end_hour", 17) * 60
            if not (opens <= local and local + duration_minutes <= closes):
                break
        else:
            options.append(f"{start // 60:02d}:{start % 60:02d}")
    return options


if __name__ == "__main__":  # a quick look: python -m inftool_dagster.sample_tools.everyday
    print(monthly_loan_payment(250_000, 4.2, 25))
    print(route_length([Waypoint(latitude=48.8566, longitude=2.3522), Waypoint(latitude=51.5074, longitude=-0.1278)]))
