"""Who is in an audience: segment criteria, the rules compiled to SQL, profiles and conditions."""
