"""Social assistance (社会救助): 低保, 特困, 临时救助, 残疾人两项补贴, 计划生育奖特扶 (SPEC §7)."""
