"""Performance reports (绩效通报): rates, rankings and the monthly bulletin, from the facts each
change of a case leaves behind (facts.py), computed by measures.py. docs/reports.md defines every
figure."""
