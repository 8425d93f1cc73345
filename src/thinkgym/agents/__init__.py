"""thinkgym.agents"""
