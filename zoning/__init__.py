"""The policy: profiles, 占补平衡 balance, 连片开发 zones, idle land and the lifecycle rules. No Streamlit."""
